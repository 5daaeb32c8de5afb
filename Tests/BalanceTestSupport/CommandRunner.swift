import Foundation

/// Runs the built `balance-report` binary, as users do.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum Repository {
    /// The package root, found from this file's path (`Tests/BalanceTestSupport/CommandRunner.swift`).
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var sampleData: URL { root.appendingPathComponent("sample-data") }

    /// The sample export files, in the order the README's shell glob gives them (`*.csv` then `*.xml`).
    static var sampleFiles: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: sampleData.path)) ?? []
        let csv = names.filter { $0.hasSuffix(".csv") }.sorted()
        let xml = names.filter { $0.hasSuffix(".xml") }.sorted()
        return (csv + xml).map { "sample-data/" + $0 }
    }
}

enum BalanceReportBinary {
    static var url: URL {
        // On Linux the test runner sits next to the products it was built with.
        Bundle.main.bundleURL.appendingPathComponent("balance-report")
    }

    static func run(_ arguments: [String], in directory: URL = Repository.root, environment: [String: String] = [:]) throws -> CommandResult {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes fully before waiting so a chatty run cannot block on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A fresh folder under the system temporary folder, removed by `cleanup()`.
struct TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("balance-report-tests-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String, _ contents: String) throws -> String {
        let path = url.appendingPathComponent(name).path
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func cleanup() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// Every regular file below `root`, as sorted relative paths.
func fileTree(_ root: URL) -> [String] {
    guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
    var files: [String] = []
    for case let url as URL in enumerator {
        if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            files.append(String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1)))
        }
    }
    return files.sorted()
}
