import Foundation
import Testing
@testable import BalanceTestSupport

/// The README's "Sending the reports" runs as written (its `msmtprc`, render, aiosmtpd, dry run,
/// send, send again) in a scratch folder beside `sample-data/`, and prints what the README shows.
/// The one change is the port: 8025 becomes a free one, so this cannot collide with the README
/// examples check (`scripts/readme_examples.py`), which runs the block with 8025 itself.
@Suite("README: sending the reports")
struct ReadmeSendExampleTests {
    static func blocks() throws -> [String] {
        let readme = try String(contentsOf: Repository.root.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "\n## Sending the reports\n"))
        let section = readme[start.upperBound...].prefix { _ in true }
        let end = section.range(of: "\n## ")?.lowerBound ?? section.endIndex
        let text = String(section[..<end])
        let fence = try Regex(#"```[a-z]*\n([\s\S]*?)```"#)
        return text.matches(of: fence).map { String(text[$0.range]).split(separator: "\n", omittingEmptySubsequences: false).dropFirst().dropLast().joined(separator: "\n") }
    }

    static func freePort() throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try #require(Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    static func bash(_ script: String, in folder: URL) throws -> CommandResult {
        // `bash -e -o pipefail`, as scripts/readme_examples.py runs a block, through Python, which
        // unblocks every signal first (the test runner's blocked signals are inherited).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv('/bin/bash', ['bash', '-e', '-o', 'pipefail', '-c', sys.argv[1]])", script]
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = BalanceReportBinary.url.deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        process.environment = environment
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

    @Test func theExampleWorksAsWritten() throws {
        let blocks = try Self.blocks()
        try #require(blocks.count >= 2, "the section lost a code block: \(blocks.count)")
        let (script, printed) = (blocks[0], blocks[1])
        #expect(script.contains("cat > msmtprc <<'EOF'") && script.contains("port           8025") && script.contains("account default : local"))
        #expect(script.contains("127.0.0.1:8025") && script.contains("--sendmail 'msmtp -C msmtprc -t'"))
        #expect(script.contains("--eml-from") && script.contains("--eml-date now"))

        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        try FileManager.default.createSymbolicLink(at: temp.url.appendingPathComponent("sample-data"),
                                                   withDestinationURL: Repository.root.appendingPathComponent("sample-data"))
        let port = String(try Self.freePort())
        let run = try Self.bash(script.replacingOccurrences(of: "8025", with: port), in: temp.url)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("alfa-cloud: would send to finance@alfa-cloud.example, ceo@alfa-cloud.example"), "\(run.stdout)")
        #expect(run.stdout.contains("dry run: 1 of 2 would be sent; nothing was sent"), "\(run.stdout)")
        // What the README says the first run prints, it prints, and exit 1; the second sends nothing.
        #expect(run.stderr.contains(printed + "\n"), "\(run.stderr)")
        #expect(run.stdout.contains("exit 1\nexit 1\n1\n"), "\(run.stdout)")
        #expect(run.stderr.contains("send: 0 sent, 1 already sent, 1 skipped, 0 failed, 0 uncertain"), "\(run.stderr)")
        let received = (try? String(contentsOf: temp.url.appendingPathComponent("received.txt"), encoding: .utf8)) ?? ""
        #expect(received.components(separatedBy: "\nMessage-ID: <20240301-20240331.").count == 2, "\(received.prefix(400))")
    }
}
