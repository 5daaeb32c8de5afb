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

/// Exit codes: 0 the run succeeded; 1 the data, the templates or the output stopped it; 2 the command line is wrong.
enum ExitStatus {
    static let dataError: Int32 = 1
    static let usage: Int32 = 2
}

/// An error already reported on stderr; only the exit code is left to set.
struct Reported: Error {
    var code: Int32
}

// The entry point is the call at the end of this file (not `@main`: the target has more than this
// one file, and a `main.swift` beside others is top-level code).
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

/// Options shared by both commands: how inputs are read and which period they are sorted into.
struct InputOptions: ParsableArguments {
    @Option(help: "Month (2024-03), quarter (2024-Q1) or year (2024), in Moscow time. render needs it, or --from and --to.")
    var period: String?

    @Option(help: "First day of the period (YYYY-MM-DD, inclusive; with --to).")
    var from: String?

    @Option(help: "Last day of the period (YYYY-MM-DD, inclusive; with --from).")
    var to: String?

    @Option(name: .customLong("input-offset"), help: "UTC offset of timestamps written without one (default +03:00, or the profile's input_offset).")
    var inputOffset: String?

    @Option(help: "Import profile of an export layout: a built-in one by name (focus, yandex-cloud-partner; see 'balance-report profiles') or a YAML file.")
    var profile: String?

    @Option(help: "Encoding of CSV inputs: utf-8 (default) or cp1251 (Windows-1251, told apart from UTF-8 per file).", completion: .list(["utf-8", "cp1251"]))
    var encoding: String?

    @Option(name: .customLong("map"), help: "Rename an input column or XML field: --map 'Сумма=amount' (repeatable).")
    var mappings: [String] = []

    @Flag(help: "Print nothing but errors on stderr (and no progress line).")
    var quiet = false

    @Option(help: "Threads the reports are built and rendered on (default: the number of active processors; 1: single-threaded). The output is the same whatever the number.")
    var jobs: Int?

    @Option(name: .customLong("runway-days"), help: "Days of recent spend the runway's daily rate is measured over: the last N days of each client's visible window that it was attached on, divided by the days counted.")
    var runwayDays: Int64 = Runway.defaultDays

    /// `--jobs`, or every active processor.
    var workers: Int { jobs ?? ProcessInfo.processInfo.activeProcessorCount }

    @Argument(help: "Export files (CSV or XML), all of a run at once.", completion: .file(extensions: ["csv", "xml"]))
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
        var offset: Int64? = nil
        if let inputOffset {
            do { offset = try TimestampParser.parseOffset(inputOffset) } catch {
                throw ValidationError("--input-offset: \(error.message)")
            }
        }
        var textEncoding: TextEncoding? = nil
        if let encoding {
            guard let named = TextEncoding.named(encoding) else {
                throw ValidationError("--encoding is utf-8 or cp1251, got '\(encoding)'")
            }
            textEncoding = named
        }
        var importProfile: ImportProfile? = nil
        if let profile {
            do { importProfile = try ImportProfile.resolve(profile) } catch {
                // A missing or unreadable file fails as every missing file does; a wrong profile is a usage error.
                guard error.unreadable else { throw ValidationError("--profile: \(error.message)") }
                Diagnostics.error("--profile: \(error.message)")
                throw Reported(code: ExitStatus.dataError)
            }
        }
        var renames: [String: String] = [:]
        for mapping in mappings {
            guard let (from, to) = HeaderMapping.parsePair(mapping) else {
                throw ValidationError("--map takes FROM=TO, got '\(mapping)'")
            }
            renames[from] = to
        }
        return IngestOptions(profile: importProfile, inputOffsetSeconds: offset, renames: renames, encoding: textEncoding)
    }

    func validateFiles() throws {
        if files.isEmpty { throw ValidationError("name the export files to read") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs is a number of threads, 1 or more") }
        if runwayDays < 1 || runwayDays > 3660 { throw ValidationError("--runway-days is a number of days, 1 to 3660") }
    }

    /// `beforeReading` runs once the command line is known to be right, before any input is read.
    func analyse(periodRequired: Bool, beforeReading: () throws -> Void = {}) throws -> Pipeline.Analysis {
        try validateFiles()
        let period = try resolvePeriod(required: periodRequired)
        let options = try ingestOptions()
        try beforeReading()
        let progress = ProgressLine.shared
        progress.begin(quiet: quiet, inputs: files)
        do {
            return try Pipeline.analyse(paths: files, options: options, period: period, runwayDays: runwayDays, workers: workers) { stage in
                Timings.stage(stage)
                progress.stageDone(stage)
            }
        } catch {
            switch error {
            case .unreadableFiles(let failures):
                for failure in failures { Diagnostics.error(failure) }
                Diagnostics.error("\(failures.count) input file(s) cannot be read, so the run stops: a file is read whole or not at all, also with --allow-rejects")
            case .mixedCurrencies:
                Diagnostics.error(error.description)
            }
            throw Reported(code: ExitStatus.dataError)
        }
    }
}

/// `BALANCE_REPORT_TIMINGS=1` prints how long each stage took (seconds, wall clock) on stderr.
enum Timings {
    nonisolated(unsafe) static var last = Date()
    static let enabled = ProcessInfo.processInfo.environment["BALANCE_REPORT_TIMINGS"] == "1"

    /// The peak resident memory of this process (VmHWM), which, unlike `ru_maxrss`, is not
    /// inflated by the parent's memory when the process was started with vfork.
    static func peakMemory() {
        Diagnostics.line("timing: peak memory \(peakKiB()) KiB")
    }

    static func peakKiB() -> String {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return "?" }
        // "VmHWM:\t  123456 kB", and past 10 GB "VmHWM:\t10963404 kB" (a tab, no space).
        return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.map(String.init) ?? "?"
    }

    static func stage(_ name: String) {
        guard enabled else { return }
        let now = Date()
        // The peak so far says which stage set the run's peak memory.
        Diagnostics.line(String(format: "timing: %@ %.3f s (peak so far %@ KiB)", name, now.timeIntervalSince(last), peakKiB()))
        last = now
    }
}

enum Diagnostics {
    /// A line on stderr (clearing the progress line first, when one is shown).
    static func line(_ text: String) {
        ProgressLine.shared.printLine(text)
    }

    static func error(_ text: String) {
        line("balance-report: error: " + text)
    }

    static func warning(_ text: String) {
        line("balance-report: warning: " + text)
    }

    /// The closing line of a run with rejected records: how many, and what to do. Text that is not
    /// UTF-8 is an encoding to declare, never records to leave out: then `--allow-rejects` is not offered.
    static func rejectionsLine(_ summary: RunSummary, written: String, allowRejects: Bool) -> String {
        let count = summary.rejections.count
        let encoding = summary.rejections.filter { $0.reason.hasSuffix("is not valid UTF-8") }.count
        if encoding > 0 {
            return "\(count) rejected record(s), \(encoding) of them with text that is not UTF-8; \(written): "
                + "give the file in UTF-8, or declare its encoding (--encoding cp1251 for Windows-1251)"
        }
        return "\(count) rejected record(s); \(written)" + (allowRejects ? " (fix them, or use --allow-rejects to render the rest and list them in rejects.csv)" : "")
    }

    static func summary(_ report: RunReport) {
        for text in SummaryText.lines(report) { line(text) }
    }
}

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write every partner's reports for a period.",
        usage: "balance-report render (--period <period> | --from <day> --to <day>) --out <out> [<options>] <files> ...",
        discussion: "A period is required: --period, or --from and --to."
    )

    @OptionGroup var input: InputOptions

    // Optional to argument-parser, required by `validate()`: a missing --out is then reported only
    // after an unknown option (`--outt`, `-o`) has been named.
    @Option(name: .customLong("out"), help: ArgumentHelp("Folder the reports are written to (replaced as a whole when the run succeeds).", valueName: "out"))
    var outOption: String?

    var out: String { outOption ?? "" }

    @Option(help: "Folder of edited templates, as 'balance-report templates export DIR' writes them (default: the templates built into the binary for --lang).",
            completion: .directory)
    var templates: String?

    @Option(name: .customLong("csv-dialect"), help: "standard (',', '.', LF) or excel-ru (BOM, ';', decimal comma, CRLF).",
            completion: .list(["standard", "excel-ru"]))
    var csvDialect: String = "standard"

    @Flag(name: .customLong("allow-rejects"), help: "Render the valid records and write rejects.csv instead of failing on rejected ones.")
    var allowRejects = false

    @Option(help: "Language of the pages and the e-mail: ru (default) or en (and of the built-in templates).", completion: .list(["ru", "en"]))
    var lang: String = "ru"

    @Flag(name: .customLong("fail-on-empty"), help: "Fail (exit 1, nothing written) when the period holds none of the transactions read, rather than warn and write empty reports.")
    var failOnEmpty = false

    @Flag(help: "Also write P/snapshot.xlsx, P/services.xlsx and P/daily.xlsx per partner: the CSV tables as Excel workbooks (amounts as numbers rounded to kopecks, dates as dates).")
    var xlsx = false

    @Flag(help: "Also write P/report.eml per partner: the summary as a MIME message with the partner's tables attached (XLSX with --lang ru, CSV with --lang en).")
    var eml = false

    @Option(help: "With --eml: CSV file partner_id,email,name giving each partner's To: (partners not in it get none).")
    var contacts: String?

    @Option(name: .customLong("eml-from"), help: "With --eml: the From: of the messages, e.g. 'Finance <billing@example.com>'.")
    var emlFrom: String?

    @Option(help: "Compare with the previous period of equal length from the same inputs: 'previous' (a month with the month before, a quarter with the quarter before, a year with the year before, N days with the N days before). Writes P/changes.csv and the change on the pages.",
            completion: .list(["previous"]))
    var compare: String?

    @Option(name: .customLong("compare-with"), help: "Compare with an earlier output of balance-report (a folder render wrote, of a period before this one): P/changes.csv and the change on the pages.",
            completion: .directory)
    var compareWith: String?

    @Option(name: .customLong("eml-date"), help: "With --eml: the Date: of the messages, a timestamp, Unix seconds or 'now' (default: $SOURCE_DATE_EPOCH, else no Date:).")
    var emlDate: String?

    /// The Spark route (docs/scale.md): this run's share of the run summary, for `merge-parts`.
    @Option(name: .customLong("summary-part"), help: ArgumentHelp("Also write this run's summary part (JSON) to this file, for merge-parts (the Spark route).", visibility: .hidden))
    var summaryPart: String?

    func validate() throws {
        DeferredValidation.run(Render.self) { try validateNow() }
    }

    func validateNow() throws {
        guard outOption != nil else { throw ValidationError("Missing expected argument '--out <out>': the folder the reports are written to") }
        try input.validateFiles()
        guard CSVDialect(rawValue: csvDialect) != nil else {
            throw ValidationError("--csv-dialect is standard or excel-ru")
        }
        guard ReportLanguage(rawValue: lang) != nil else {
            throw ValidationError("--lang is ru or en")
        }
        if !eml, contacts != nil || emlFrom != nil || emlDate != nil {
            throw ValidationError("--contacts, --eml-from and --eml-date go with --eml")
        }
        _ = try mailFrom()
        _ = try mailDate()
        _ = try input.resolvePeriod(required: true)
        if let compare, compare != "previous" { throw ValidationError("--compare takes 'previous' (or compare with an earlier output: --compare-with DIR)") }
        if compare != nil && compareWith != nil { throw ValidationError("give either --compare previous or --compare-with DIR, not both") }
    }

    func run() throws {
        let dialect = CSVDialect(rawValue: csvDialect)!
        let language = ReportLanguage(rawValue: lang)!

        // Templates first: a broken template should not cost a full read of the exports.
        let set: TemplateSet
        var mail: EmailOptions? = nil
        let files: TemplateFiles
        do {
            files = try templates.map { try TemplateFiles.folder($0) } ?? TemplateFiles.builtIn(language)
        } catch let error as TemplateFilesError {
            for problem in error.problems { Diagnostics.error("--templates: " + problem) }
            throw Reported(code: ExitStatus.dataError)
        }
        do {
            set = try TemplateSet(dialect: dialect, language: language) { files.source($0) }
            if eml {
                let source = files.source(EmailOptions.textTemplateName)
                mail = EmailOptions(textTemplate: try EmailOptions.compileTextTemplate(source),
                                    contacts: try contacts.map { try PartnerContacts.read(path: $0) } ?? [:],
                                    from: try mailFrom(), date: try mailDate())
            }
        } catch let error as MailError {
            Diagnostics.error("--contacts: \(error.message)")
            throw Reported(code: ExitStatus.dataError)
        } catch let error as TemplateError {
            Diagnostics.error("template \(files.location(of: error.template)):\(error.line): \(error.message)")
            throw Reported(code: ExitStatus.dataError)
        }
        let analysis = try input.analyse(periodRequired: true) {
            // A folder the tool must not replace is refused before anything is read.
            do { try OutputFolder.check(out, inputs: input.files) } catch let error as OutputError {
                Diagnostics.error(error.message)
                throw Reported(code: ExitStatus.dataError)
            }
            // So is an earlier output that is not one, or not of an earlier period.
            if let problem = try earlierOutputProblem() {
                Diagnostics.error(problem.message)
                throw Reported(code: ExitStatus.dataError)
            }
        }
        var report = analysis.report
        let summary = report.summary
        if !input.quiet || summary.hasRejections { Diagnostics.summary(report) }
        if let empty = EmptyPeriod.check(analysis.ledger, period: report.period) {
            if failOnEmpty {
                Diagnostics.error(empty.message(report.period) + "; no report written (--fail-on-empty)")
                throw Reported(code: ExitStatus.dataError)
            }
            if !input.quiet { Diagnostics.warning(empty.message(report.period) + " (--fail-on-empty makes this an error)") }
        }
        if summary.hasRejections && !allowRejects {
            Diagnostics.error(Diagnostics.rejectionsLine(summary, written: "no report written", allowRejects: true))
            throw Reported(code: ExitStatus.dataError)
        }
        if !summary.controlFailures.isEmpty {
            Diagnostics.error("control totals do not reconcile; no report written")
            throw Reported(code: ExitStatus.dataError)
        }
        if let problem = compared(&report, ledger: analysis.ledger) {
            Diagnostics.error(problem.message)
            throw Reported(code: ExitStatus.dataError)
        }
        do {
            let writer = try ReportWriter(destination: out, digestsEveryFile: summaryPart != nil)
            let progress = ProgressLine.shared
            // Per partner index, snapshot (HTML and CSV), services and daily, and each client's two
            // pages; then summary.json, rejects.csv and the messages.
            let pages: Int = report.partners.reduce(0) { $0 + 5 + ($1.comparison == nil ? 0 : 1) + (xlsx ? 3 : 0) + 2 * $1.clients.count }
            let extras: Int = 1 + (allowRejects ? 1 : 0) + (summary.unknownClients.isEmpty ? 0 : 1) + (mail == nil ? 0 : report.partners.count)
            let expected = pages + extras
            progress.set(.writing(total: expected))
            try ReportRenderer(templates: set, dialect: dialect).render(
                report, includeRejects: allowRejects, xlsx: xlsx, workers: input.workers
            ) { path, bytes in
                try writer.write(path, bytes)
                progress.fileWritten()
            }
            if let mail {
                let renderer = ReportRenderer(templates: set, dialect: dialect)
                try renderer.renderEmails(report, options: mail) { path, bytes in
                    try writer.write(path, bytes)
                    progress.fileWritten()
                }
                if contacts != nil && !input.quiet {
                    for partner in report.partners where mail.contacts[ByteKey(partner.partnerID)] == nil {
                        Diagnostics.line("note: partner \(partner.partnerID) is not in \(contacts!): its report.eml has no To:")
                    }
                }
            }
            Timings.stage("render")
            if let summaryPart {
                do {
                    let absolute = out.hasPrefix("/") ? out : FileManager.default.currentDirectoryPath + "/" + out
                    try PartFiles.renderPart(analysis, output: absolute).write(to: URL(fileURLWithPath: summaryPart))
                } catch {
                    Diagnostics.error("cannot write \(summaryPart): \(error.localizedDescription)")
                    throw Reported(code: ExitStatus.dataError)
                }
            }
            progress.set(.publishing)
            try writer.publish(period: report.period)
            Timings.stage("publish")
            progress.finish()
            if !input.quiet { Diagnostics.line("wrote \(writer.writtenFiles) files to \(out)") }
            // Done: the process ends here rather than free a million records one by one.
            Foundation.exit(0)
        } catch let error as TemplateError {
            Diagnostics.error("template \(files.location(of: error.template)):\(error.line): \(error.message)")
            throw Reported(code: ExitStatus.dataError)
        } catch let error as OutputError {
            Diagnostics.error(error.message)
            throw Reported(code: ExitStatus.dataError)
        } catch let error as WorkbookError {
            Diagnostics.error(error.message)
            throw Reported(code: ExitStatus.dataError)
        } catch let error as Reported {
            throw error
        } catch {
            Diagnostics.error("\(error)")
            throw Reported(code: ExitStatus.dataError)
        }
    }

    /// Why `--compare-with DIR` is not an earlier output of a period before this one, if it is not.
    func earlierOutputProblem() throws -> ComparisonError? {
        guard let compareWith, let period = try input.resolvePeriod(required: true) else { return nil }
        do { try PreviousOutput.check(compareWith, current: period) } catch { return error }
        return nil
    }

    /// Adds the comparison `--compare previous` or `--compare-with` asks for; the reason when it cannot be made.
    func compared(_ report: inout RunReport, ledger: Ledger) -> ComparisonError? {
        do {
            if compare != nil {
                try Comparison.comparePrevious(&report, ledger: ledger, workers: input.workers)
            } else if let compareWith {
                let folders = report.partners.map { FileNames.safeName(for: $0.partnerID) }
                let previous = try PreviousOutput.read(compareWith, current: report.period, folders: folders, currency: report.currency)
                Comparison.attach(to: &report, previousPeriod: previous.period) { partner in
                    previous.partners[ByteKey(FileNames.safeName(for: partner.partnerID))]
                }
            }
            return nil
        } catch {
            return error
        }
    }

    /// `--eml-from`, parsed.
    func mailFrom() throws -> MailAddress? {
        guard let emlFrom else { return nil }
        do { return try MailAddress.parse(emlFrom) } catch {
            throw ValidationError("--eml-from: \(error.message)")
        }
    }

    /// `--eml-date` (a timestamp, Unix seconds or `now`), else `SOURCE_DATE_EPOCH`, else none.
    func mailDate() throws -> Instant? {
        if let emlDate {
            if emlDate == "now" { return Instant(seconds: Int64(Date().timeIntervalSince1970)) }
            do { return try TimestampParser.parse(emlDate) } catch {
                throw ValidationError("--eml-date: \(error.message)")
            }
        }
        if eml, let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"], !epoch.isEmpty {
            guard let seconds = Int64(epoch) else { throw ValidationError("SOURCE_DATE_EPOCH is not a number of seconds") }
            return Instant(seconds: seconds)
        }
        return nil
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check export files and print the run summary; write nothing.")

    @OptionGroup var input: InputOptions

    func validate() throws {
        DeferredValidation.run(Validate.self) {
            try input.validateFiles()
            _ = try input.resolvePeriod(required: false)
        }
    }

    func run() throws {
        let analysis = try input.analyse(periodRequired: false)
        ProgressLine.shared.finish()
        let summary = analysis.report.summary
        if !input.quiet || summary.hasRejections { Diagnostics.summary(analysis.report) }
        if summary.hasRejections {
            Diagnostics.error(Diagnostics.rejectionsLine(summary, written: "the inputs do not validate", allowRejects: false))
        }
        if !summary.controlFailures.isEmpty { Diagnostics.error("control totals do not reconcile") }
        if summary.hasRejections || !summary.controlFailures.isEmpty {
            throw Reported(code: ExitStatus.dataError)
        }
        Foundation.exit(0)
    }
}

/// `balance-report profiles`: the built-in import profiles, one line each; `--show NAME` prints one.
struct Profiles: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the built-in import profiles (--profile NAME), or print one.")

    @Option(help: "Print the YAML of this built-in profile (a starting point for your own).")
    var show: String?

    func run() throws {
        if let show {
            guard let entry = BuiltInProfiles.named(show) else {
                Diagnostics.error("no built-in profile \(show) (built in: \(BuiltInProfiles.names.joined(separator: ", ")))")
                throw Reported(code: ExitStatus.usage)
            }
            print(entry.yaml)
            return
        }
        for entry in BuiltInProfiles.all {
            let summary = (try? ImportProfile.parse(entry.yaml, path: entry.name))?.summary ?? ""
            print(entry.name.padding(toLength: 22, withPad: " ", startingAt: 0) + summary)
        }
    }
}

BalanceReportCommand.main()
