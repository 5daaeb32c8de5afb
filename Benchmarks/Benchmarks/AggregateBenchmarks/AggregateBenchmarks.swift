// Aggregation, the stages Pipeline.analyse runs after Ingest: the ledger (duplicates, client
// timelines, transactions per client in balance order) and the report building (visible windows,
// detail with running balances, spend per service and per Moscow day, snapshot, run summary and
// its reconciliation). Ingest happens once, in the setup; each iteration gets its own copy of the
// transactions (made before the measurement starts), as the ledger takes them over.
import BalancePipeline
import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
import Benchmark
import BenchSupport

/// What Ingest read, with the transactions held apart.
struct Ingested {
    var export: IngestedExport
    var transactions: TransactionTable

    init(_ size: BenchData.Size) throws {
        var export = Ingestor.ingest(paths: try BenchData.csvPaths(size), options: BenchData.ingestOptions,
                                     workers: processorCount)
        guard export.rejections.isEmpty else {
            throw BenchData.Failure(description: "\(export.rejections.count) rejections")
        }
        transactions = TransactionTable()
        swap(&transactions, &export.transactions)
        self.export = export
    }

    /// The transactions for one ledger: the ledger lays them out into new columns (it never
    /// changes the ones it is given in place), so sharing the table's storage costs nothing.
    func freshTransactions() -> TransactionTable { transactions }
}

let benchmarks: @Sendable () -> Void = {
    for size in BenchData.sizes {
        let configuration = BenchData.configuration(size)

        Benchmark("Ledger-\(size.label)", configuration: configuration) { benchmark, input in
            let transactions = input.freshTransactions()
            benchmark.startMeasurement()  // the measurement starts here, after the copy
            let ledger = try Ledger.build(from: input.export, transactions: transactions)
            withExtendedLifetime(ledger) {
                benchmark.stopMeasurement()
            }
        } setup: {
            try Ingested(size)
        }

        Benchmark("Report-\(size.label)", configuration: configuration) { (benchmark, state: (input: Ingested, ledger: Ledger)) in
            let report = ReportBuilder.build(ledger: state.ledger, export: state.input.export, period: BenchData.period)
            withExtendedLifetime(report) {
                benchmark.stopMeasurement()
            }
            if report.summary.hasRejections || !report.summary.controlFailures.isEmpty {
                benchmark.error("report: rejections or control failures")
            }
        } setup: {
            let input = try Ingested(size)
            let ledger = try Ledger.build(from: input.export, transactions: input.freshTransactions())
            return (input: input, ledger: ledger)
        }

        // Ledger and report together: what `validate` does after Ingest.
        Benchmark("Aggregate-\(size.label)", configuration: configuration) { benchmark, input in
            let transactions = input.freshTransactions()
            benchmark.startMeasurement()  // the measurement starts here, after the copy
            let ledger = try Ledger.build(from: input.export, transactions: transactions)
            let report = ReportBuilder.build(ledger: ledger, export: input.export, period: BenchData.period)
            withExtendedLifetime((ledger, report)) {
                benchmark.stopMeasurement()
            }
        } setup: {
            try Ingested(size)
        }
    }
}
