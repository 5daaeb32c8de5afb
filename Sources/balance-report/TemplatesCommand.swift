import BalanceSupport
import BalancePipeline
import BalanceSend
import BalanceOutput
import BalanceRender
import BalanceIngest
import BalanceModel
import ArgumentParser
import BalanceReport
import Foundation

/// `balance-report templates export DIR`: the built-in templates as files to edit, then use with
/// `render --templates DIR`.
struct TemplatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "templates",
        abstract: "Work with the report templates built into the binary.",
        subcommands: [Export.self]
    )

    /// Without a subcommand there is nothing to do: the usage, and exit 2, as for the root command.
    func run() throws {
        // The usage is the tool's own text (several lines), not data: printed as it is.
        FileHandle.standardError.write(Data((BalanceReportCommand.helpMessage(for: TemplatesCommand.self) + "\n").utf8))
        throw Reported(code: ExitStatus.usage)
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the built-in templates of a language into a folder as editable copies.",
            discussion: """
                Writes the \(TemplateFiles.names.count) files render uses (\(TemplateFiles.names.joined(separator: ", "))) into DIR, \
                creating DIR when missing. It never overwrites: when any of the files is already there, \
                nothing is written. Edit them, then render with --templates DIR.
                """
        )

        @Argument(help: "Folder to write the templates into (created when missing; its parent must exist).", completion: .directory)
        var folder: String

        @Option(help: "ru (default) or en.", completion: .list(["ru", "en"]))
        var lang: String = "ru"

        func validate() throws {
            guard ReportLanguage(rawValue: lang) != nil else { throw ValidationError("--lang is ru or en") }
        }

        func run() throws {
            let language = ReportLanguage(rawValue: lang)!
            do {
                let written = try TemplateFiles.builtIn(language).write(to: folder)
                Diagnostics.line("wrote \(written.count) templates (\(lang)) to \(folder); edit them, then render with --templates \(folder)")
            } catch {
                for problem in error.messages { Diagnostics.error(problem) }
                throw Reported(code: ExitStatus.dataError)
            }
        }
    }
}
