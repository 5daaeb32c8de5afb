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

// The two steps of a run split by partner (the Spark route, scale/spark/, docs/scale.md) that
// need this tool's own code: reading an export the way a run reads it, and putting the partners'
// renders back together into the output one run would have written.

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
        let options = try input.ingestOptions()
        let path = input.files[0]
        if let refusal = ExportSplit.refusal(options, path: path) {
            Diagnostics.error("\(path): the Spark route cannot split this export: \(refusal)")
            throw Reported(code: ExitStatus.dataError)
        }
        do { try SplitOutputs.check(rows: rows, part: part, input: path) } catch {
            Diagnostics.error(error.message)
            throw Reported(code: ExitStatus.dataError)
        }
        let export = Ingestor.ingest(paths: [path], options: options, workers: input.workers)
        if !export.fileFailures.isEmpty {
            for failure in export.fileFailures { Diagnostics.error(export.describe(failure)) }
            throw Reported(code: ExitStatus.dataError)
        }
        do {
            try SplitOutputs.write(ExportSplit.lines(export, path: path), to: rows)
            try SplitOutputs.write(Array(PartFiles.encode(SummaryPart.ofInput(export))), to: part)
        } catch let error as OutputError {
            Diagnostics.error(error.message)
            throw Reported(code: ExitStatus.dataError)
        } catch {
            Diagnostics.error("cannot write \(part): \(error.localizedDescription)")
            throw Reported(code: ExitStatus.dataError)
        }
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
        if checkOut {
            do { try OutputFolder.check(out, inputs: parts) } catch {
                Diagnostics.error(error.message)
                throw Reported(code: ExitStatus.dataError)
            }
            return
        }
        var inputs: [SummaryPart] = []
        var renders: [SummaryPart] = []
        for path in parts {
            do {
                let part = try JSONDecoder().decode(SummaryPart.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
                if part.role == "input" { inputs.append(part) } else { renders.append(part) }
            } catch {
                Diagnostics.error("\(path): not a summary part: \(error)")
                throw Reported(code: ExitStatus.dataError)
            }
        }
        do { try OutputFolder.check(out, inputs: inputs.flatMap { $0.files.map(\.path) }) } catch {
            Diagnostics.error(error.message)
            throw Reported(code: ExitStatus.dataError)
        }
        let run: MergedRun
        do { run = try SummaryMerge.merge(inputs: inputs, renders: renders) } catch {
            Diagnostics.error(error.message)
            throw Reported(code: ExitStatus.dataError)
        }
        let summary = run.summary
        if summary.hasRejections {
            for r in summary.rejections.prefix(50) {
                Diagnostics.line("\(summary.files[Int(r.source.file)].path):\(r.source.line): \(r.reason)")
            }
            if !allowRejects {
                Diagnostics.error("\(summary.rejections.count) rejected record(s); no report written (use --allow-rejects to render the rest)")
                throw Reported(code: ExitStatus.dataError)
            }
        }
        let failures = summary.controlFailures
        if !failures.isEmpty {
            for failure in failures { Diagnostics.error(failure) }
            Diagnostics.error("control totals do not reconcile; no report written")
            throw Reported(code: ExitStatus.dataError)
        }
        let dialect = CSVDialect(rawValue: csvDialect)!
        let language = ReportLanguage(rawValue: lang)!
        do {
            let files = try templates.map { try TemplateFiles.folder($0) } ?? TemplateFiles.builtIn(language)
            let set = try TemplateSet(dialect: dialect, language: language) { files.source($0) }
            let written = try MergedOutput.publish(run, to: out, renderer: ReportRenderer(templates: set, dialect: dialect),
                                                   includeRejects: allowRejects)
            if !quiet { Diagnostics.line("merged \(renders.count) part(s) of \(run.partners.count) partner(s): wrote \(written) files to \(out)") }
        } catch let error as OutputError {
            Diagnostics.error(error.message)
            throw Reported(code: ExitStatus.dataError)
        } catch let error as TemplateFilesError {
            for problem in error.problems { Diagnostics.error("--templates: " + problem) }
            throw Reported(code: ExitStatus.dataError)
        } catch {
            Diagnostics.error("\(error)")
            throw Reported(code: ExitStatus.dataError)
        }
    }
}

/// Summary parts as JSON: keys sorted, so a part's bytes depend only on its content.
enum PartFiles {
    static func encode(_ part: SummaryPart) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(part)
    }

    /// What `render --summary-part` writes: the run's part, with where its currency came from.
    static func renderPart(_ analysis: Pipeline.Analysis, output: String) throws -> Data {
        let ledger = analysis.ledger
        var first: SourceLocation? = ledger.unknownClientTransactions.map(\.source).min()
        for client in ledger.clients.values {
            let transactions = client.transactions
            for index in transactions.indices where first.map({ transactions.source(index) < $0 }) ?? true { first = transactions.source(index) }
        }
        let part = SummaryPart.of(analysis.report, currencyFromData: first != nil,
                                  currencySource: first.map { analysis.export.location($0) }, output: output)
        return try encode(part)
    }
}
