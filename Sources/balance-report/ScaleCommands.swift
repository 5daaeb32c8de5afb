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

// The two steps of the Spark route (scale/spark/, docs/scale.md): `Pipeline.splitExport` and
// `Pipeline.mergeParts`.

/// `balance-report split-export FILE --rows R --part P`: one export file's records as canonical rows
/// for routing by client, and the file's part of the run summary.
struct SplitExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split-export",
        abstract: "Read one export file as a run reads it and write its records as rows to route by client (the Spark route: docs/scale.md in the balance-report sources).",
        discussion: "The rows file has one line per record: kind, position, client id (hex), partner id of a client or id of a transaction (hex), and the record as a canonical CSV row with the provenance columns balance_report_source_file and balance_report_source_line (base64). The part file is the file's share of the run summary, for merge-parts."
    )

    @OptionGroup var input: InputOptions

    @Option(help: "Where to write the rows.")
    var rows: String

    @Option(help: "Where to write the file's summary part (JSON).")
    var part: String

    func validate() throws {
        try input.validateFiles()
        if input.files.count != 1 { throw ValidationError("split-export reads one export file at a time") }
    }

    func run() throws {
        let request = Pipeline.SplitRequest(input: input.files[0], options: try input.ingestOptions(), rows: rows, part: part,
                                            workers: input.workers)
        do { try Pipeline.splitExport(request) } catch { throw Diagnostics.fail(error) }
    }
}

/// `balance-report merge-parts --out DIR PART...`: the partners' renders and the files' parts into
/// one output, as one run over every file would have written it.
struct MergeParts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-parts",
        abstract: "Merge the parts of a run rendered per partner into one output: the partners' folders, summary.json and rejects.csv (the Spark route: docs/scale.md in the balance-report sources).",
        discussion: "Give the input parts (split-export --part) in the order the run names its files, and the render parts (render --summary-part) in any order. The merged control totals must add up exactly, else nothing is published (exit 1). --out follows render's rule: a new or empty folder, or an earlier output of balance-report."
    )

    @Option(help: "The output folder (replaced as a whole when the merge succeeds).")
    var out: String

    @Flag(name: .customLong("allow-rejects"), help: "Publish with rejected records and write rejects.csv, as render --allow-rejects.")
    var allowRejects = false

    @Option(help: "Templates of rejects.csv, as given to render.", completion: .directory)
    var templates: String?

    @Option(help: "Language, as given to render (ru or en).")
    var lang: String = "ru"

    @Option(name: .customLong("csv-dialect"), help: "standard or excel-ru, as given to render.")
    var csvDialect: String = "standard"

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    @Flag(name: .customLong("check-out"), help: "Only check, before any work, that --out may be written with the arguments as the run's export files (render's rule), and exit.")
    var checkOut = false

    @Argument(help: "Summary parts (JSON): every input part in the run's file order, and every render part.")
    var parts: [String] = []

    func validate() throws {
        if parts.isEmpty { throw ValidationError("name the summary parts to merge") }
        guard CSVDialect(rawValue: csvDialect) != nil else { throw ValidationError("--csv-dialect is standard or excel-ru") }
        guard ReportLanguage(rawValue: lang) != nil else { throw ValidationError("--lang is ru or en") }
    }

    func run() throws {
        var request = Pipeline.MergeRequest(parts: parts, out: out)
        request.allowRejects = allowRejects
        request.templates = templates.map { .folder($0) } ?? .builtIn
        request.language = ReportLanguage(rawValue: lang)!
        request.dialect = CSVDialect(rawValue: csvDialect)!
        do {
            if checkOut { return try Pipeline.checkMergeOutput(request) }
            let outcome = try Pipeline.mergeParts(request)
            if !quiet {
                Diagnostics.line("merged \(outcome.renderParts) part(s) of \(outcome.partners) partner(s): wrote \(outcome.writtenFiles) files to \(out)")
            }
        } catch {
            throw Diagnostics.fail(error)
        }
    }
}
