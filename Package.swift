// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "balance-report",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "balance-report", targets: ["balance-report"]),
        .library(name: "BalanceReport", targets: ["BalancePipeline", "BalanceSend", "BalanceOutput", "BalanceRender", "BalanceReport", "BalanceIngest", "BalanceModel", "BalanceSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Import profiles (`--profile FILE`) are YAML. Yams is the well-kept YAML package of the Swift
        // world (SwiftLint and SwiftGen read their configs with it): libyaml's C sources plus Swift, no further
        // dependencies. TOMLKit was the alternative, but it wraps a C++ library and its manifest pulls
        // packages the offline mirror does not have. Profiles are read as plain scalars (no YAML
        // 1.1 type guessing: `no` or `+03:00` stay the text they are).
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // libxml2 through its streaming reader; the shim header wraps what Swift 6 cannot call directly.
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"]), .brew(["libxml2"])]
        ),
        // zlib for `.gz` exports, read as they stream. Every gzip reader is built on it, Debian ships it,
        // and it needs no SwiftNIO (compress-nio, the Swift package, wraps the same library through NIO buffers).
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        // libxlsxwriter: the XLSX workbooks (`--xlsx`, and the Russian e-mail's attachments). A C library
        // made for exactly this, with numbers, dates and text cells, column widths and frozen panes,
        // and byte-identical output once the creation time is fixed.
        .systemLibrary(
            name: "CLibXLSXWriter",
            pkgConfig: "xlsxwriter",
            providers: [.apt(["libxlsxwriter-dev"]), .brew(["libxlsxwriter"])]
        ),
        // renameat2(RENAME_EXCHANGE): the one-step swap that publishes a finished report directory.
        .target(name: "CSystemShims"),

        // One target per stage (docs/architecture.md): a target imports only the stages before it, so
        // an arrow against the flow Ingest → Model → Report → Render → Output → Send does not compile.
        // What several stages need and no stage owns: hashing, hex and base64, digits, file-system
        // errors, threads.
        .target(name: "BalanceSupport"),
        // Money, instants, byte ids, the transaction table, the ledger, provenance and rejections.
        .target(name: "BalanceModel", dependencies: ["BalanceSupport"]),
        // Files to records: CSV, XML, gzip, encodings, import profiles, decoding into the table.
        .target(
            name: "BalanceIngest",
            dependencies: ["BalanceModel", "BalanceSupport", "CLibXML2", "CZlib", .product(name: "Yams", package: "Yams")]
        ),
        // Every fact a page shows, decided: balances, spend, rankings, attention, runway, spikes,
        // comparison, the run summary. Pure values; no file is read or written here.
        .target(name: "BalanceReport", dependencies: ["BalanceModel", "BalanceSupport"]),
        // Views, templates and formats: HTML, CSV, XLSX, JSON, MIME. Bytes out, no file system.
        .target(name: "BalanceRender", dependencies: ["BalanceReport", "BalanceModel", "BalanceSupport", "CLibXLSXWriter"]),
        // The output folder: staging, the marker, the lock, the atomic publish, reading an earlier output.
        .target(
            name: "BalanceOutput",
            dependencies: ["BalanceRender", "BalanceReport", "BalanceIngest", "BalanceModel", "BalanceSupport", "CSystemShims"]
        ),
        // Sending a published output's messages through sendmail, once each.
        .target(name: "BalanceSend", dependencies: ["BalanceOutput", "BalanceRender", "BalanceModel", "BalanceSupport"]),
        // The stages wired: a request in, ingest → ledger → report → compare → render → publish, an outcome out.
        .target(
            name: "BalancePipeline",
            dependencies: ["BalanceSend", "BalanceOutput", "BalanceRender", "BalanceReport", "BalanceIngest", "BalanceModel", "BalanceSupport"]
        ),
        .executableTarget(
            name: "balance-report",
            dependencies: [
                "BalancePipeline", "BalanceSend", "BalanceOutput", "BalanceRender", "BalanceReport", "BalanceIngest", "BalanceModel", "BalanceSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Tests follow the targets: one test target per stage, the end-to-end tests of the built
        // binary (CLI snapshots, goldens, hostile inputs, faults), and the helpers and fixtures
        // they share.
        .target(
            name: "BalanceTestSupport",
            dependencies: ["BalancePipeline", "BalanceSend", "BalanceOutput", "BalanceRender", "BalanceReport", "BalanceIngest", "BalanceModel", "BalanceSupport"],
            path: "Tests/BalanceTestSupport",
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "BalanceModelTests", dependencies: ["BalanceTestSupport", "BalancePipeline", "BalanceSend", "BalanceOutput", "BalanceRender", "BalanceReport", "BalanceIngest", "BalanceModel", "BalanceSupport"]),
        .testTarget(name: "BalanceIngestTests", dependencies: ["BalanceTestSupport", "BalancePipeline", "BalanceSend", "BalanceOutput", "BalanceRender", "BalanceReport", "BalanceIngest", "BalanceModel", "BalanceSupport"]),
        .testTarget(name: "BalanceReportTests", dependencies: ["BalanceTestSupport", "BalancePipeline", "BalanceSend", "BalanceOutput", "BalanceRender", "BalanceReport", "BalanceIngest", "BalanceModel", "BalanceSupport"]),
        .testTarget(name: "BalanceRenderTests", dependencies: ["BalanceTestSupport", "BalancePipeline", "BalanceSend", "BalanceOutput", "BalanceRender", "BalanceReport", "BalanceIngest", "BalanceModel", "BalanceSupport"]),
        .testTarget(name: "BalanceSendTests", dependencies: ["BalanceTestSupport", "BalancePipeline", "BalanceSend", "BalanceOutput", "BalanceRender", "BalanceReport", "BalanceIngest", "BalanceModel", "BalanceSupport"]),
        .testTarget(name: "BalanceEndToEndTests", dependencies: ["BalanceTestSupport", "BalancePipeline", "BalanceSend", "BalanceOutput", "BalanceRender", "BalanceReport", "BalanceIngest", "BalanceModel", "BalanceSupport", "balance-report"]),
    ]
)
