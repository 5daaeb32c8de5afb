// The field decoders over the values of the generated transactions.csv, held back to back in one
// byte buffer: timestamps in every mixed form the generator writes (ISO with `Z`, `+03:00`, `+0300`,
// milliseconds, naive with space or `T`, Unix seconds), and amounts (up to six fractional digits).
import BalancePipeline
import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
import Benchmark
import BenchSupport

let benchmarks: @Sendable () -> Void = {
    for size in BenchData.sizes {
        let configuration = BenchData.configuration(size)

        Benchmark("TimestampParse-\(size.label)", configuration: configuration) { benchmark, column in
            var sum: Int64 = 0
            var failures = 0
            column.forEach { bytes in
                do {
                    let instant = try TimestampParser.parse(bytes, naiveOffsetSeconds: MoscowTime.offsetSeconds)
                    sum &+= instant.seconds
                } catch {
                    failures += 1
                }
            }
            blackHole(sum)
            if failures > 0 { benchmark.error("\(failures) timestamps failed to parse") }
        } setup: {
            try BenchData.transactionColumn("timestamp", size)
        }

        Benchmark("AmountParse-\(size.label)", configuration: configuration) { benchmark, column in
            var sum: Int128 = 0
            var failures = 0
            column.forEach { bytes in
                do {
                    sum &+= try AmountParser.parse(bytes, mark: .point, allowNegative: false).picos
                } catch {
                    failures += 1
                }
            }
            blackHole(sum)
            if failures > 0 { benchmark.error("\(failures) amounts failed to parse") }
        } setup: {
            try BenchData.transactionColumn("amount", size)
        }
    }
}
