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
    ],
    targets: [
        // libxml2 through its streaming reader; the shim header wraps what Swift 6 cannot call directly.
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"]), .brew(["libxml2"])]
        ),
        // renameat2(RENAME_EXCHANGE): the one-step swap that publishes a finished report directory.
        .target(name: "CSystemShims"),
        .target(
            name: "BalanceReport",
            dependencies: ["CLibXML2", "CSystemShims"]
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
