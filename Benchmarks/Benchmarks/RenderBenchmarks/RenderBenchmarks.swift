// Rendering: every partner's pages and CSV files, every client's detail page and CSV, and
// summary.json, through the shipped Russian templates, on every core as `render` does, into memory
// (each file's bytes are counted and dropped: no disk, no staging folder).
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
        Benchmark("Render-\(size.label)", configuration: BenchData.configuration(size)) { benchmark, state in
            let bytes = Atomic<Int>(0)
            let files = Atomic<Int>(0)
            try ReportRenderer(templates: state.templates, dialect: .standard).render(
                state.analysis.report, includeRejects: false, workers: processorCount
            ) { _, data in
                bytes.add(data.count, ordering: .relaxed)
                files.add(1, ordering: .relaxed)
            }
            benchmark.stopMeasurement()
            blackHole(bytes.load(ordering: .relaxed))
            if files.load(ordering: .relaxed) == 0 { benchmark.error("rendered no file") }
        } setup: {
            (analysis: try BenchData.analysis(size), templates: try BenchData.templates())
        }
    }
}
