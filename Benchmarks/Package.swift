// swift-tools-version:6.1
// The stage-by-stage benchmark suite (ordo-one/benchmark). A package of its own, so that the main
// package, its tests and its CI never resolve or build the benchmark harness.
//
//   cd Benchmarks && swift package benchmark                 # or: Benchmarks/suite.sh (prints one table)
//
// Each target under Benchmarks/<Name>/ is one benchmark executable; BenchSupport makes and caches
// the generated exports they read (see Sources/BenchSupport/BenchData.swift).
import PackageDescription

let benchmarkTargets = [
    "IngestBenchmarks",     // CSV parse, CSV ingest, XML parse, XML ingest
    "FieldBenchmarks",      // timestamp and amount parsing over byte buffers
    "AggregateBenchmarks",  // ledger, report building, both
    "RenderBenchmarks",     // every page and CSV of a run, into memory
    "EndToEndBenchmarks",   // read, aggregate and render, into memory
    "TemplateBenchmarks",   // the template row loop: fields resolved once per section vs looked up per cell
]

let package = Package(
    name: "balance-report-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "balance-report", path: ".."),
        // The MallocInterposer trait alone (without the default RuntimeInterposer, whose package
        // is not needed on Linux with this trait set) gives the malloc counts.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(
            name: "BenchSupport",
            dependencies: [
                .product(name: "BalanceReport", package: "balance-report"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Sources/BenchSupport"
        ),
    ] + benchmarkTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                "BenchSupport",
                .product(name: "BalanceReport", package: "balance-report"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/\(name)",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    }
)
