// End to end in one process: templates, Ingest of the three CSV files, ledger, reports and the
// rendering of every file into memory: `render` without its disk writes. (Benchmarks/run.sh times
// the real binary, disk included.)
import BalancePipeline
import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
import Benchmark
import BenchSupport
import Synchronization

let benchmarks: @Sendable () -> Void = {
    for size in BenchData.sizes {
        Benchmark("EndToEnd-\(size.label)", configuration: BenchData.configuration(size)) { benchmark, paths in
            let templates = try BenchData.templates()
            let analysis = try Pipeline.analyse(AnalysisRequest(inputs: paths, options: BenchData.ingestOptions, period: BenchData.period))
            try BenchData.check(analysis.report)
            let bytes = Atomic<Int>(0)
            try ReportRenderer(templates: templates, dialect: .standard).render(
                analysis.report, includeRejects: false, workers: processorCount
            ) { _, data in
                bytes.add(data.count, ordering: .relaxed)
            }
            withExtendedLifetime(analysis) {
                benchmark.stopMeasurement()
            }
            blackHole(bytes.load(ordering: .relaxed))
        } setup: {
            try BenchData.csvPaths(size)
        }
    }
}
