import BalanceSend
import BalanceOutput
import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
/// The stages wired in order: Ingest → Model → Report. Rendering and publishing are left to the
/// caller, which decides whether a run with rejections may publish anything.
public enum Pipeline {
    public struct Analysis: Sendable {
        /// What Ingest read, less the transactions (they live on in `ledger`).
        public var export: IngestedExport
        public var ledger: Ledger
        public var report: RunReport
    }

    /// Reads `paths` and builds every partner's report for `period` (or, when `nil`, for the
    /// Moscow days from the first to the last transaction). `stageDone` hears the end of each
    /// stage (`ingest`, `ledger`, `report`), for progress and timings. The reports and the run
    /// summary are built on up to `workers` threads (1: single-threaded); the result is the same
    /// whatever the number.
    public static func analyse(paths: [String], options: IngestOptions, period: ReportPeriod?,
                               runwayDays: Int64 = Runway.defaultDays,
                               workers: Int = processorCount,
                               stageDone: (String) -> Void = { _ in }) throws(RunError) -> Analysis {
        var export = Ingestor.ingest(paths: paths, options: options, workers: workers)
        stageDone("ingest")
        if !export.fileFailures.isEmpty {
            throw .unreadableFiles(export.fileFailures.map(export.describe))
        }
        let chosen = period ?? spanningPeriod(export.transactions)
        let origin: RunReport.PeriodOrigin = period != nil ? .given : export.transactions.isEmpty ? .none : .transactions
        // The ledger takes the transactions over: one copy of a million of them is enough.
        var transactions = TransactionTable()
        swap(&transactions, &export.transactions)
        let ledger: Ledger
        do {
            ledger = try Ledger.build(from: export, transactions: consume transactions, workers: workers)
        } catch {
            switch error {
            case .mixedCurrencies(let found):
                throw .mixedCurrencies(found.map(\.currency), locations: found.map { export.location($0.source) })
            }
        }
        stageDone("ledger")
        var report = ReportBuilder.build(ledger: ledger, export: export, period: chosen, runwayDays: runwayDays, workers: workers)
        report.periodOrigin = origin
        stageDone("report")
        return Analysis(export: export, ledger: ledger, report: report)
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
