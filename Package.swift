// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "balance-report",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "balance-report", targets: ["balance-report"]),
        .library(name: "BalanceReport", targets: ["BalanceReport"]),
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
        .target(
            name: "BalanceReport",
            dependencies: ["CLibXML2", "CZlib", "CLibXLSXWriter", "CSystemShims", .product(name: "Yams", package: "Yams")]
        ),
        .executableTarget(
            name: "balance-report",
            dependencies: [
                "BalanceReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "BalanceReportTests",
            dependencies: ["BalanceReport", "balance-report"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
