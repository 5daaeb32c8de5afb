import ArgumentParser
import BalanceIngest
import BalanceModel
import BalancePipeline
import BalanceRender
import BalanceReport
import BalanceSupport
import Foundation

/// Exit codes: 0 the run succeeded; 1 the data, the templates or the output stopped it; 2 the
/// command line is wrong (`Diagnostic.dataError`, `Diagnostic.usage`).
enum ExitStatus {
    static let dataError = Diagnostic.dataError
    static let usage = Diagnostic.usage
}

/// An error already reported on stderr; only the exit code is left to set.
struct Reported: Error {
    var code: Int32
}

// The entry point is `main.swift` (not `@main`: a `main.swift` beside other files is top-level code).
struct BalanceReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "balance-report",
        abstract: "Balance reports of the partner programme from billing exports, in Moscow time (UTC+03:00).",
        discussion: CommandHelp.rootDiscussion,
        version: BalanceReportVersion.string,
        subcommands: [Render.self, Validate.self, TemplatesCommand.self, Profiles.self, Send.self, SplitExport.self, MergeParts.self],
        defaultSubcommand: nil
    )

    /// Without a command there is nothing to run: the usage goes to stderr and the exit code says so.
    func run() throws {
        // The usage is the tool's own text (several lines), not data: printed as it is.
        FileHandle.standardError.write(Data((BalanceReportCommand.helpMessage() + "\n").utf8))
        throw Reported(code: ExitStatus.usage)
    }

    static func main() {
        Timings.last = Date()
        if Timings.enabled { atexit { Timings.peakMemory() } }
        // Whatever way the run ends, a progress line is not left on the terminal.
        atexit { ProgressLine.shared.finish() }
        if let message = CommandHelp.unknownSubcommand(Array(CommandLine.arguments.dropFirst())) {
            Diagnostics.error(message)
            Foundation.exit(ExitStatus.usage)
        }
        do {
            var command = try parseAsRoot()
            // What a command's validate() found, reported once argument-parser has found no unknown option.
            // (Not for `--help`, which argument-parser answers with a command of its own.)
            if let failure = DeferredValidation.failure, failure.command == type(of: command) {
                let name = failure.command._commandName
                let message = failure.command.fullMessage(for: failure.error)
                    .replacingOccurrences(of: "See '\(name) --help'", with: "See 'balance-report \(name) --help'")
                FileHandle.standardError.write(Data((message + "\n").utf8))
                Foundation.exit(ExitStatus.usage)
            }
            try command.run()
        } catch let reported as Reported {
            Foundation.exit(reported.code)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(ExitStatus.usage)
        }
    }
}

/// argument-parser validates a command (its `validate()`, its required options) before it looks for
/// options it does not know, so `render --peroid 2024-03` would say "give --period" and hide the
/// typo. The commands' checks are kept here instead and reported after parsing: an unknown option
/// is named first, with argument-parser's own "did you mean".
enum DeferredValidation {
    nonisolated(unsafe) static var failure: (command: any ParsableCommand.Type, error: any Error)?

    static func run(_ command: any ParsableCommand.Type, _ check: () throws -> Void) {
        do { try check() } catch {
            if failure == nil { failure = (command, error) }
        }
    }
}

