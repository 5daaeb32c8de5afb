import BalancePipeline
import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
import Benchmark
import Foundation

/// The generated exports the benchmarks read, made on demand by `Benchmarks/generate.py` and cached
/// in `$BENCH_CACHE` (default `/tmp`) under the same names `Benchmarks/run.sh` uses:
///
///     /tmp/balance-report-bench-<rows>-<clients>/{clients,events,transactions}.csv
///     /tmp/balance-report-bench-<rows>-<clients>-xml/export.xml
///
/// Environment:
///   BENCH_SIZES    comma-separated row counts to register (`100k,1M`, `250000`); default `100k,1M`
///   BENCH_10M=1    also register 10M rows (minutes per benchmark, ~800 MB of CSV, several GB of memory)
///   BENCH_CLIENTS  clients of the generated exports (default 2000, as `run.sh`)
///   BENCH_CACHE    folder of the cached exports (default /tmp)
public enum BenchData {
    public struct Size: Sendable {
        public let label: String
        public let rows: Int

        public init(label: String, rows: Int) {
            self.label = label
            self.rows = rows
        }

        public init(rows: Int) {
            let label = rows % 1_000_000 == 0 ? "\(rows / 1_000_000)M" : rows % 1_000 == 0 ? "\(rows / 1_000)k" : "\(rows)"
            self.init(label: label, rows: rows)
        }

        /// `100k`, `1M`, `10M` or a plain number.
        public init?(_ text: String) {
            var digits = Substring(text.trimmingCharacters(in: .whitespaces))
            var factor = 1
            switch digits.last {
            case "k", "K": factor = 1_000
            case "m", "M": factor = 1_000_000
            default: break
            }
            if factor > 1 { digits = digits.dropLast() }
            guard let n = Int(digits), n > 0 else { return nil }
            self.init(rows: n * factor)
        }
    }

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The sizes to register benchmarks for.
    public static var sizes: [Size] {
        var sizes = (environment["BENCH_SIZES"] ?? "100k,1M").split(separator: ",").compactMap { Size(String($0)) }
        if environment["BENCH_10M"] == "1", !sizes.contains(where: { $0.rows == 10_000_000 }) {
            sizes.append(Size(rows: 10_000_000))
        }
        return sizes
    }

    public static var clients: Int { Int(environment["BENCH_CLIENTS"] ?? "") ?? 2000 }

    /// The repository root, from this file's place in it (`Benchmarks/Sources/BenchSupport/`).
    public static let repositoryRoot: String = {
        if let root = ProcessInfo.processInfo.environment["BALANCE_REPORT_ROOT"] { return root }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// Benchmark settings by size: many short iterations at 100k, a few at 1M, one or two at 10M.
    /// Wall clock and CPU time, peak resident memory (whole process, and its growth during the run)
    /// and the number of mallocs.
    public static func configuration(_ size: Size) -> Benchmark.Configuration {
        let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .peakMemoryResident, .peakMemoryResidentDelta, .mallocCountTotal]
        switch size.rows {
        case ..<500_000:
            return .init(metrics: metrics, timeUnits: .milliseconds, warmupIterations: 1,
                         maxDuration: .seconds(10), maxIterations: 25)
        case ..<5_000_000:
            return .init(metrics: metrics, timeUnits: .milliseconds, warmupIterations: 1,
                         maxDuration: .seconds(20), maxIterations: 10)
        default:
            return .init(metrics: metrics, timeUnits: .milliseconds, warmupIterations: 0,
                         maxDuration: .seconds(60), maxIterations: 3)
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    // MARK: Cached exports

    static func cacheFolder(_ size: Size, suffix: String) -> String {
        (environment["BENCH_CACHE"] ?? "/tmp") + "/balance-report-bench-\(size.rows)-\(clients)\(suffix)"
    }

    /// The folder of `clients.csv`, `events.csv` and `transactions.csv`, generated when missing.
    public static func csvFolder(_ size: Size) throws -> String {
        let folder = cacheFolder(size, suffix: "")
        try ensure(folder: folder, file: "transactions.csv", format: "csv", size: size)
        return folder
    }

    /// The three CSV files, in the order the CLI takes them in `run.sh` (`DIR/*.csv`).
    public static func csvPaths(_ size: Size) throws -> [String] {
        let folder = try csvFolder(size)
        return ["clients.csv", "events.csv", "transactions.csv"].map { folder + "/" + $0 }
    }

    /// One `export.xml` holding clients, events and transactions, generated when missing.
    public static func xmlPath(_ size: Size) throws -> String {
        let folder = cacheFolder(size, suffix: "-xml")
        try ensure(folder: folder, file: "export.xml", format: "xml", size: size)
        return folder + "/export.xml"
    }

    /// Generates into a scratch folder and renames the files into place, `file` last, so an
    /// interrupted generation never leaves a half-written export that looks complete.
    static func ensure(folder: String, file: String, format: String, size: Size) throws {
        let manager = FileManager.default
        if manager.fileExists(atPath: folder + "/" + file) { return }
        let scratch = folder + ".partial-\(getpid())"
        try? manager.removeItem(atPath: scratch)
        FileHandle.standardError.write("generating \(size.rows) transactions (\(format)) into \(folder)\n".data(using: .utf8)!)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repositoryRoot + "/Benchmarks/generate.py",
                             "--clients", String(clients), "--transactions", String(size.rows),
                             "--seed", "42", "--format", format, "--out", scratch]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "generate.py failed (\(process.terminationStatus)) for \(folder)")
        }
        try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let files = try manager.contentsOfDirectory(atPath: scratch).filter { $0 != file } + [file]
        for name in files {
            if manager.fileExists(atPath: folder + "/" + name) { try manager.removeItem(atPath: folder + "/" + name) }
            try manager.moveItem(atPath: scratch + "/" + name, toPath: folder + "/" + name)
        }
        try manager.removeItem(atPath: scratch)
    }

    // MARK: Inputs of the stages

    /// One CSV column's values, back to back, for the field parsers.
    public struct Column: Sendable {
        public var bytes: [UInt8] = []
        /// End offset of every value in `bytes`.
        public var ends: [Int] = []

        public var count: Int { ends.count }

        /// Calls `body` with every value's bytes.
        @inline(__always)
        public func forEach(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
            bytes.withUnsafeBufferPointer { all in
                var start = 0
                for end in ends {
                    body(UnsafeBufferPointer(rebasing: all[start..<end]))
                    start = end
                }
            }
        }
    }

    /// The values of column `name` of the transactions file, read with the product's own CSV reader.
    public static func transactionColumn(_ name: String, _ size: Size) throws -> Column {
        var reader = try CSVReader(path: try csvFolder(size) + "/transactions.csv")
        defer { reader.close() }
        var column = Column()
        column.bytes.reserveCapacity(size.rows * 24)
        column.ends.reserveCapacity(size.rows)
        var index: Int? = nil
        try reader.read(onRow: { row in
            guard let index else {
                index = (0..<row.count).first { row.string($0) == name }
                if index == nil { throw Failure(description: "no column \(name) in transactions.csv") }
                return
            }
            row.withField(index) { column.bytes.append(contentsOf: $0) }
            column.ends.append(column.bytes.count)
        }, onMalformed: { error in
            throw Failure(description: "transactions.csv:\(error.line): \(error.reason)")
        })
        return column
    }

    /// The period every benchmark reports on: the generated year, as `run.sh --period 2024`.
    public static let period: ReportPeriod = try! ReportPeriod.parse("2024")

    /// The options of a run without a profile or flags, as the CLI builds them.
    public static var ingestOptions: IngestOptions {
        IngestOptions(profile: nil, inputOffsetSeconds: nil, renames: [:], encoding: nil)
    }

    /// Everything a run read, ledger and report: the input of the render stage.
    public static func analysis(_ size: Size) throws -> Pipeline.Analysis {
        let analysis = try Pipeline.analyse(AnalysisRequest(inputs: try csvPaths(size), options: ingestOptions, period: period))
        try check(analysis.report)
        return analysis
    }

    /// A benchmark over an export the CLI would refuse measures nothing useful.
    public static func check(_ report: RunReport) throws {
        if report.summary.hasRejections {
            let first = report.summary.rejections.first.map { "\($0.reason)" } ?? ""
            throw Failure(description: "\(report.summary.rejections.count) rejected record(s): \(first)")
        }
    }

    /// The shipped Russian templates, compiled (the CLI's default).
    public static func templates(dialect: CSVDialect = .standard) throws -> TemplateSet {
        let folder = repositoryRoot + "/Templates/ru"
        return try TemplateSet(dialect: dialect, language: .ru) { name in
            try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
        }
    }
}
