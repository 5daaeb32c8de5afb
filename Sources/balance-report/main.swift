import ArgumentParser
import BalanceReport
import Foundation

/// Exit codes: 0 the run succeeded; 1 the data, the templates or the output stopped it; 2 the command line is wrong.
enum ExitStatus {
    static let dataError: Int32 = 1
    static let usage: Int32 = 2
}

/// An error already reported on stderr; only the exit code is left to set.
struct Reported: Error {
    var code: Int32
}

@main
struct BalanceReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "balance-report",
        abstract: "Balance reports of the partner programme from billing exports, in Moscow time (UTC+03:00).",
        subcommands: [Render.self, Validate.self],
        defaultSubcommand: nil
    )

    /// Without a command there is nothing to run: the usage goes to stderr and the exit code says so.
    func run() throws {
        Diagnostics.line(BalanceReportCommand.helpMessage())
        throw Reported(code: ExitStatus.usage)
    }

    static func main() {
        do {
            var command = try parseAsRoot()
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

/// Options shared by both commands: how inputs are read and which period they are sorted into.
struct InputOptions: ParsableArguments {
    @Option(help: "Month (2024-03), quarter (2024-Q1) or year (2024), in Moscow time.")
    var period: String?

    @Option(help: "First day of the period (YYYY-MM-DD, inclusive; with --to).")
    var from: String?

    @Option(help: "Last day of the period (YYYY-MM-DD, inclusive; with --from).")
    var to: String?

    @Option(name: .customLong("input-offset"), help: "UTC offset of timestamps written without one.")
    var inputOffset: String = "+03:00"

    @Option(name: .customLong("map"), help: "Rename an input column or XML field: --map 'Сумма=amount' (repeatable).")
    var mappings: [String] = []

    @Flag(help: "Print nothing but errors on stderr.")
    var quiet = false

    @Argument(help: "Export files (CSV or XML), all of a run at once.")
    var files: [String] = []

    func resolvePeriod(required: Bool) throws -> ReportPeriod? {
        do {
            switch (period, from, to) {
            case (let month?, nil, nil): return try ReportPeriod.parse(month)
            case (nil, let first?, let last?): return try ReportPeriod.parse(from: first, to: last)
            case (nil, nil, nil):
                if required { throw ValidationError("give --period or --from and --to") }
                return nil
            default: throw ValidationError("give either --period or both --from and --to")
            }
        } catch let error as PeriodError {
            throw ValidationError(error.message)
        }
    }

    func ingestOptions() throws -> IngestOptions {
        let offset: Int64
        do { offset = try TimestampParser.parseOffset(inputOffset) } catch {
            throw ValidationError("--input-offset: \(error.message)")
        }
        var renames: [String: String] = [:]
        for mapping in mappings {
            guard let (from, to) = HeaderMapping.parsePair(mapping) else {
                throw ValidationError("--map takes FROM=TO, got '\(mapping)'")
            }
            renames[from] = to
        }
        return IngestOptions(naiveOffsetSeconds: offset, mapping: HeaderMapping(renames))
    }

    func validateFiles() throws {
        if files.isEmpty { throw ValidationError("name the export files to read") }
    }

    func analyse(periodRequired: Bool) throws -> Pipeline.Analysis {
        try validateFiles()
        let period = try resolvePeriod(required: periodRequired)
        let options = try ingestOptions()
        do {
            return try Pipeline.analyse(paths: files, options: options, period: period)
        } catch {
            switch error {
            case .mixedCurrencies(let found):
                Diagnostics.error("one run has one currency, found " + found.map { "\($0.currency) (first in \(files[Int($0.source.file)]):\($0.source.line))" }.joined(separator: " and "))
            }
            throw Reported(code: ExitStatus.dataError)
        }
    }
}

enum Diagnostics {
    static func line(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        line("balance-report: error: " + text)
    }

    static func summary(_ report: RunReport) {
        for text in SummaryText.lines(report) { line(text) }
    }
}

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write every partner's reports for a period.")

    @OptionGroup var input: InputOptions

    @Option(help: "Folder the reports are written to (replaced as a whole when the run succeeds).")
    var out: String

    @Option(help: "Folder with the templates (default: Templates/ru beside the working folder or the installed binary).")
    var templates: String?

    @Option(name: .customLong("csv-dialect"), help: "standard (',', '.', LF) or excel-ru (BOM, ';', decimal comma, CRLF).")
    var csvDialect: String = "standard"

    @Flag(name: .customLong("allow-rejects"), help: "Render the valid records and write rejects.csv instead of failing on rejected ones.")
    var allowRejects = false

    func validate() throws {
        try input.validateFiles()
        guard CSVDialect(rawValue: csvDialect) != nil else {
            throw ValidationError("--csv-dialect is standard or excel-ru")
        }
        _ = try input.resolvePeriod(required: true)
    }

    func run() throws {
        let dialect = CSVDialect(rawValue: csvDialect)!
        // Templates first: a broken template should not cost a full read of the exports.
        let set: TemplateSet
        do {
            let folder = try templatesFolder()
            set = try TemplateSet(dialect: dialect) { name in
                try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            }
        } catch let error as TemplateError {
            Diagnostics.error("template \(error)")
            throw Reported(code: ExitStatus.dataError)
        } catch let error as OutputError {
            Diagnostics.error(error.message)
            throw Reported(code: ExitStatus.dataError)
        } catch let error as CocoaError {
            Diagnostics.error("cannot read template \(error.userInfo[NSFilePathErrorKey] ?? "?")")
            throw Reported(code: ExitStatus.dataError)
        }
        let analysis = try input.analyse(periodRequired: true)
        let report = analysis.report
        let summary = report.summary
        if !input.quiet || summary.hasRejections { Diagnostics.summary(report) }
        if summary.hasRejections && !allowRejects {
            Diagnostics.error("\(summary.rejections.count) rejected record(s); no report written (use --allow-rejects to render the rest)")
            throw Reported(code: ExitStatus.dataError)
        }
        if !summary.controlFailures.isEmpty {
            Diagnostics.error("control totals do not reconcile; no report written")
            throw Reported(code: ExitStatus.dataError)
        }
        do {
            let writer = try ReportWriter(destination: out)
            try ReportRenderer(templates: set, dialect: dialect).render(
                report, includeRejects: allowRejects, workers: ProcessInfo.processInfo.activeProcessorCount
            ) { path, bytes in
                try writer.write(path, bytes)
            }
            try writer.publish()
            if !input.quiet { Diagnostics.line("wrote \(writer.writtenFiles) files to \(out)") }
        } catch let error as TemplateError {
            Diagnostics.error("template \(error)")
            throw Reported(code: ExitStatus.dataError)
        } catch let error as OutputError {
            Diagnostics.error(error.message)
            throw Reported(code: ExitStatus.dataError)
        } catch let error as Reported {
            throw error
        } catch {
            Diagnostics.error("\(error)")
            throw Reported(code: ExitStatus.dataError)
        }
    }

    func templatesFolder() throws -> String {
        if let templates { return templates }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [
            FileManager.default.currentDirectoryPath + "/Templates/ru",
            executable.deletingLastPathComponent().appendingPathComponent("../share/balance-report/Templates/ru").path,
        ]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/index.html.mustache") }) else {
            throw OutputError("no templates found in ./Templates/ru; pass --templates DIR")
        }
        return found
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check export files and print the run summary; write nothing.")

    @OptionGroup var input: InputOptions

    func validate() throws {
        try input.validateFiles()
        _ = try input.resolvePeriod(required: false)
    }

    func run() throws {
        let analysis = try input.analyse(periodRequired: false)
        let summary = analysis.report.summary
        if !input.quiet || summary.hasRejections { Diagnostics.summary(analysis.report) }
        if summary.hasRejections || !summary.controlFailures.isEmpty {
            throw Reported(code: ExitStatus.dataError)
        }
    }
}
