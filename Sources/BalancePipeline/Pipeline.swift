import BalanceIngest
import BalanceModel
import BalanceOutput
import BalanceRender
import BalanceReport
import BalanceSupport

/// The stages wired in order: ingest → ledger → report → (compare) → render → publish. The
/// command line builds a request, calls one of these, prints what the observer hears and the
/// diagnostics of a `RunError`, and exits with its code: no rule of a run lives there.
public enum Pipeline {
    public struct Analysis: Sendable {
        /// What Ingest read, less the transactions (they live on in `ledger`).
        public var export: IngestedExport
        public var ledger: Ledger
        public var report: RunReport
    }

    /// Reads the inputs and builds every partner's report for the request's period (or, without
    /// one, for the Moscow days from the first to the last transaction).
    public static func analyse(_ request: AnalysisRequest, observer: any RunObserver = SilentObserver()) throws(RunError) -> Analysis {
        var export = Ingestor.ingest(paths: request.inputs, options: request.options, workers: request.workers)
        observer.stageDone(.ingest)
        if !export.fileFailures.isEmpty {
            let failures = export.fileFailures.map { Diagnostic($0.reason, location: export.locationOf($0)) }
            throw RunError(failures + [Diagnostic("\(failures.count) input file(s) cannot be read, so the run stops: "
                + "a file is read whole or not at all, also with --allow-rejects")])
        }
        let chosen = request.period ?? spanningPeriod(export.transactions)
        let origin: RunReport.PeriodOrigin = request.period != nil ? .given : export.transactions.isEmpty ? .none : .transactions
        // The ledger takes the transactions over: one copy of a million of them is enough.
        var transactions = TransactionTable()
        swap(&transactions, &export.transactions)
        let ledger = Ledger.build(from: export, transactions: consume transactions, workers: request.workers)
        observer.stageDone(.ledger)
        var report = ReportBuilder.build(ledger: ledger, export: export, period: chosen, runwayDays: request.runwayDays,
                                         balances: request.options.profiled?.profile.balances ?? true,
                                         workers: request.workers)
        report.periodOrigin = origin
        if !request.runCurrencies.isEmpty {
            report.currencies = Set((report.currencies + request.runCurrencies).map { ByteKey($0) }).sorted().map(\.text)
        }
        observer.stageDone(.report)
        return Analysis(export: export, ledger: ledger, report: report)
    }

    /// `validate`: the analysis and the run summary; a run with rejections or control totals that
    /// do not add up fails, after the observer has heard the summary.
    public static func validate(_ request: AnalysisRequest, observer: any RunObserver = SilentObserver()) throws(RunError) -> Analysis {
        let analysis = try analyse(request, observer: observer)
        let summary = analysis.report.summary
        observer.analysed(analysis.report)
        var problems: [Diagnostic] = []
        if summary.hasRejections {
            problems.append(Diagnostic(RunRules.rejectionsLine(summary, written: "the inputs do not validate", offerAllowRejects: false)))
        }
        if !summary.controlFailures.isEmpty { problems.append(Diagnostic("control totals do not reconcile")) }
        if !problems.isEmpty { throw RunError(problems) }
        return analysis
    }

    /// `render`: checks what can be checked before reading (templates, contacts, the output
    /// folder, an earlier output), analyses, applies the run's rules (rejections, control totals,
    /// an empty period), compares, renders every file into a staging folder and publishes it in one step.
    public static func render(_ request: RenderRequest, observer: any RunObserver = SilentObserver()) throws(RunError) -> RenderOutcome {
        // Templates first: a broken template should not cost a full read of the exports.
        let rendering = try RenderSetup.load(request)
        try RenderSetup.checkOutput(request)
        let analysis = try analyse(request.analysis, observer: observer)
        var report = analysis.report
        observer.analysed(report)
        try RunRules.check(report, ledger: analysis.ledger, request: request, observer: observer)
        if let comparison = request.comparison {
            do { try compare(&report, ledger: analysis.ledger, with: comparison, workers: request.analysis.workers) } catch {
                throw RunError(error)
            }
            observer.stageDone(.compare)
        }
        let written = try RenderSetup.write(report, analysis: analysis, rendering: rendering, request: request, observer: observer)
        return RenderOutcome(writtenFiles: written, analysis: analysis)
    }

    /// Adds the comparison the request asks for.
    static func compare(_ report: inout RunReport, ledger: Ledger, with source: RenderRequest.ComparisonSource,
                        workers: Int) throws(Diagnostic) {
        switch source {
        case .previousPeriod:
            try Comparison.comparePrevious(&report, ledger: ledger, workers: workers)
        case .earlierOutput(let folder):
            let folders = report.partners.map { FileNames.safeName(for: $0.partnerID) }
            let previous = try PreviousOutput.read(folder, current: report.period, folders: folders, currency: report.currencies.first ?? "RUB")
            // Each currency with itself: one the earlier output had and this run has not lists its clients as gone.
            func earlier(_ partner: PartnerReport) -> [String: PeriodSpend]? { previous.partners[ByteKey(FileNames.safeName(for: partner.partnerID))] }
            Comparison.attach(to: &report, previousPeriod: previous.period,
                              previousCurrencies: { earlier($0).map { Array($0.keys) } ?? [] }) { partner, currency in
                earlier(partner)?.first { $0.key.bytesEqual(currency) }?.value
            }
        }
    }

    /// The Moscow days from the earliest to the latest transaction (when there is none, a placeholder
    /// day the run report marks as `PeriodOrigin.none`, never shown as a period).
    static func spanningPeriod(_ transactions: TransactionTable) -> ReportPeriod {
        let instants = transactions.indices.lazy.map { transactions.instant($0) }
        let first = instants.min().map(MoscowTime.date(of:)) ?? CivilDate(year: 1970, month: 1, day: 1)
        let last = instants.max().map(MoscowTime.date(of:)) ?? first
        return (try? ReportPeriod(firstDay: first, lastDay: last)) ?? (try! ReportPeriod(firstDay: first, lastDay: first))
    }
}
