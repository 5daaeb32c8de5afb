import Foundation
import Testing
@testable import BalanceTestSupport

/// Every `sh` example of the README runs, as written, against the built binary in a folder
/// outside the repository (scripts/readme_examples.py; .ci/run runs it again against the
/// installed binary), and the script fails when an example does.
@Suite("README examples")
struct ReadmeExamplesTests {
    static func examples(readme: String? = nil) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Repository.root.appendingPathComponent("scripts/readme_examples.py").path,
                             "--bin", BalanceReportBinary.url.deletingLastPathComponent().path]
            + (readme.map { ["--readme", $0] } ?? [])
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }

    @Test("every example of README.md runs and every output it shows is what the tool prints")
    func readmeExamplesRun() throws {
        let result = try Self.examples()
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains(" 0 failed"), "\(result.stdout)")
        // The install, test, benchmark and Spark blocks are the only ones not run here, each saying why.
        let notRun = result.stdout.split(separator: "\n").filter { $0.contains(": not run here: ") }
        #expect(notRun.count == 5, "\(notRun)")
        let ran = result.stdout.split(separator: "\n").filter { $0.hasSuffix(": ok") }
        #expect(ran.count >= 6, "\(result.stdout)")
    }

    @Test("a broken example, a stale output or a README without examples fails the check")
    func brokenExamplesFail() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let broken = try temp.file("broken.md", """
            # x

            ```sh
            balance-report render --perod 2024-03 --out out sample-data/*.csv
            ```

            <!-- stderr of: balance-report validate --period 2024-03 sample-data/clients.csv -->
            ```
            period 1999-01-01 – 1999-01-31 (Moscow time, UTC+03:00), currency RUB
            ```

            <!-- not run here: a reason -->
            ```sh
            false
            ```

            """)
        let result = try Self.examples(readme: broken)
        #expect(result.status == 1)
        #expect(result.stderr.contains("broken.md:3: exit 2"), "\(result.stderr)")
        #expect(result.stderr.contains("broken.md:8: the block is not what `balance-report validate --period 2024-03 sample-data/clients.csv` prints"), "\(result.stderr)")
        #expect(result.stdout.contains("broken.md:13: not run here: a reason"))
        #expect(result.stdout.contains("2 example(s) ran, 2 failed, 1 not run here"), "\(result.stdout)")

        let empty = try temp.file("empty.md", "# nothing to run\n\n```\ntext\n```\n")
        let none = try Self.examples(readme: empty)
        #expect(none.status == 1)
        #expect(none.stderr.contains("has no example to run"))
    }
}
