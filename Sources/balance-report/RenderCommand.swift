import ArgumentParser
import BalanceIngest
import BalanceModel
import BalancePipeline
import BalanceRender
import BalanceReport
import BalanceSupport
import Foundation

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

    @Option(name: .customLong("run-currencies"), help: ArgumentHelp("With --summary-part: the currencies of the whole run (KZT,RUB,USD), so that a set of one currency writes the columns of a run of several.", visibility: .hidden))
    var runCurrencies: String?

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
        for code in runCurrencyCodes where !CurrencyCode.isValid(code) {
            throw ValidationError("--run-currencies takes three-letter codes separated by commas, got '\(code)'")
        }
    }

    var runCurrencyCodes: [String] { runCurrencies.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? [] }

    func run() throws {
        var analysis = try input.analysisRequest(periodRequired: true)
        analysis.runCurrencies = runCurrencyCodes
        var request = RenderRequest(analysis: analysis, out: out)
        request.templates = templates.map { .folder($0) } ?? .builtIn
        request.dialect = CSVDialect(rawValue: csvDialect)!
        request.language = ReportLanguage(rawValue: lang)!
        request.allowRejects = allowRejects
        request.failOnEmpty = failOnEmpty
        request.xlsx = xlsx
        if eml { request.mail = RenderRequest.Mail(contactsPath: contacts, from: try mailFrom(), date: try mailDate()) }
        if compare != nil { request.comparison = .previousPeriod }
        if let compareWith { request.comparison = .earlierOutput(compareWith) }
        request.summaryPart = summaryPart
        do {
            let outcome = try Pipeline.render(request, observer: input.observer())
            ProgressLine.shared.finish()
            if !input.quiet { Diagnostics.line("wrote \(outcome.writtenFiles) files to \(out)") }
            // Done: the process ends here rather than free a million records one by one.
            withExtendedLifetime(outcome) { Foundation.exit(0) }
        } catch {
            throw Diagnostics.fail(error)
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

