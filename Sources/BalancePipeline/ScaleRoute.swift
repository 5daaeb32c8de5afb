import BalanceIngest
import BalanceModel
import BalanceOutput
import BalanceRender
import BalanceReport
import BalanceSupport
import Foundation

/// The two steps of a run split by partner (the Spark route, scale/spark/, docs/scale.md) that
/// need this tool's own code: reading an export the way a run reads it, and putting the partners'
/// renders back together into the output one run would have written.
extension Pipeline {
    /// `split-export`: one export file's records as canonical rows to route by client, and the
    /// file's part of the run summary.
    public struct SplitRequest: Sendable {
        public var input: String
        public var options: IngestOptions
        public var rows: String
        public var part: String
        public var workers: Int

        public init(input: String, options: IngestOptions, rows: String, part: String, workers: Int = processorCount) {
            self.input = input
            self.options = options
            self.rows = rows
            self.part = part
            self.workers = workers
        }
    }

    public static func splitExport(_ request: SplitRequest) throws(RunError) {
        let path = request.input
        do { try SplitOutputs.check(rows: request.rows, part: request.part, input: path) } catch { throw RunError(error) }
        let export = Ingestor.ingest(paths: [path], options: request.options, workers: request.workers)
        if !export.fileFailures.isEmpty {
            throw RunError(export.fileFailures.map { Diagnostic($0.reason, location: export.locationOf($0)) })
        }
        do throws(Diagnostic) {
            // A layout that names its clients in the rows passes the rows themselves on, read again
            // by the renders with the profile (`ExportSplit.rawLines`).
            var passed: Set<Int32>? = nil
            if ExportSplit.passesRows(export, options: request.options, path: path) {
                do {
                    let raw = try ExportSplit.rawLines(export, options: request.options, path: path)
                    try SplitOutputs.write(raw.lines, to: request.rows)
                    passed = raw.passed
                } catch let error as Diagnostic {
                    throw error
                } catch let error as CSVError {
                    throw Diagnostic("\(path):\(error.line): \(error.reason)")
                } catch {
                    throw Diagnostic("\(path): \(error)")
                }
            } else {
                try SplitOutputs.write(ExportSplit.lines(export, path: path), to: request.rows)
            }
            let part: Data
            do { part = try PartFiles.encode(passed.map { SummaryPart.ofInput(export, passingLines: $0) } ?? SummaryPart.ofInput(export)) } catch {
                throw Diagnostic("cannot write \(request.part): \(error.localizedDescription)")
            }
            try SplitOutputs.write(Array(part), to: request.part)
        } catch {
            throw RunError(error)
        }
    }

    /// `merge-parts`: the partners' renders and the files' parts into one output.
    public struct MergeRequest: Sendable {
        /// Summary parts: every input part in the run's file order, and every render part.
        public var parts: [String]
        public var out: String
        public var allowRejects = false
        public var templates: RenderRequest.Templates = .builtIn
        public var language: ReportLanguage = .ru
        public var dialect: CSVDialect = .standard

        public init(parts: [String], out: String) {
            self.parts = parts
            self.out = out
        }
    }

    public struct MergeOutcome: Sendable {
        public var writtenFiles: Int
        public var renderParts: Int
        public var partners: Int
    }

    /// Checks only that `--out` may be written with the arguments as the run's export files.
    public static func checkMergeOutput(_ request: MergeRequest) throws(RunError) {
        do { try OutputFolder.check(request.out, inputs: request.parts) } catch { throw RunError(error) }
    }

    public static func mergeParts(_ request: MergeRequest) throws(RunError) -> MergeOutcome {
        var inputs: [SummaryPart] = []
        var renders: [SummaryPart] = []
        for path in request.parts {
            do {
                let part = try JSONDecoder().decode(SummaryPart.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
                if part.role == "input" { inputs.append(part) } else { renders.append(part) }
            } catch {
                throw RunError("\(path): not a summary part: \(error)")
            }
        }
        do { try OutputFolder.check(request.out, inputs: inputs.flatMap { $0.files.map(\.path) }) } catch { throw RunError(error) }
        let run: MergedRun
        do { run = try SummaryMerge.merge(inputs: inputs, renders: renders) } catch { throw RunError(error) }
        let summary = run.summary
        if summary.hasRejections {
            var problems = summary.rejections.prefix(50).map { rejection in
                Diagnostic.note(rejection.reason, location: "\(summary.files[Int(rejection.source.file)].path):\(rejection.source.line)")
            }
            if !request.allowRejects {
                problems.append(Diagnostic("\(summary.rejections.count) rejected record(s); no report written (use --allow-rejects to render the rest)"))
                throw RunError(problems)
            }
        }
        let failures = summary.controlFailures
        if !failures.isEmpty {
            throw RunError(failures.map { Diagnostic($0) } + [Diagnostic("control totals do not reconcile; no report written")])
        }
        let set = try RenderSetup.templates(request.templates, language: request.language, dialect: request.dialect).set
        do {
            let written = try MergedOutput.publish(run, to: request.out, renderer: ReportRenderer(templates: set, dialect: request.dialect),
                                                   includeRejects: request.allowRejects)
            return MergeOutcome(writtenFiles: written, renderParts: renders.count, partners: run.partners.count)
        } catch {
            throw RunError(error)
        }
    }
}
