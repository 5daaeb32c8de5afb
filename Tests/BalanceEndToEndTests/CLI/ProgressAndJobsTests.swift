import Foundation
import Testing
@testable import BalanceTestSupport

@Suite("Progress line", .serialized)
struct ProgressLineTests {
    @Test func aTerminalSeesTheStagesRewrittenInPlaceAndClearedBeforeTheSummary() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out").path
        let arguments = ["render", "--period", "2024-03", "--out", out] + Repository.sampleFiles
        let run = try TerminalRun.run(arguments)
        #expect(run.status == 0, "\(run.terminal)")
        let texts = try progressTexts(run.terminal)
        #expect(texts.contains { $0.hasPrefix("reading ") }, "\(texts)")
        #expect(texts.contains("ledger"), "\(texts)")
        #expect(texts.contains("reports"), "\(texts)")
        // Counts grouped by three whatever the locale, e.g. `writing 1,234 / 8,010 files`.
        let writing = try Regex(#"^writing \d{1,3}(,\d{3})* / \d{1,3}(,\d{3})* files$"#)
        #expect(texts.contains { $0.wholeMatch(of: writing) != nil }, "\(texts)")
        // Cleared before the summary and before the last line; nothing is drawn after it.
        #expect(run.terminal.contains("\r\u{1B}[Kperiod 2024-03"), "\(run.terminal.debugDescription)")
        #expect(run.terminal.contains("\r\u{1B}[Kwrote "), "\(run.terminal.debugDescription)")
        #expect(run.terminal.hasSuffix("files to \(out)\n"), "\(run.terminal.debugDescription)")

        // Less the progress line, the terminal shows exactly what a run without a terminal prints.
        let plain = try BalanceReportBinary.run(arguments, environment: ["BALANCE_REPORT_PROGRESS_AFTER": "0"])
        #expect(plain.status == 0)
        #expect(try withoutProgress(run.terminal) == plain.stderr)
        #expect(!plain.stderr.contains("\r") && !plain.stderr.contains("\u{1B}"))
    }

    @Test func validateShowsTheStagesToo() throws {
        let run = try TerminalRun.run(["validate", "--period", "2024-03"] + Repository.sampleFiles)
        #expect(run.status == 0, "\(run.terminal)")
        let texts = try progressTexts(run.terminal)
        #expect(texts.contains { $0.hasPrefix("reading ") } && texts.contains("reports"), "\(texts)")
        #expect(!texts.contains { $0.hasPrefix("writing") })
        #expect(try withoutProgress(run.terminal).hasPrefix("period 2024-03"), "\(run.terminal.debugDescription)")
        #expect(run.terminal.hasSuffix("\n"))
    }

    @Test func theLineNeverWrapsOnANarrowTerminal() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let run = try TerminalRun.run(["render", "--period", "2024-03", "--out", temp.url.appendingPathComponent("out").path]
                                      + Repository.sampleFiles, columns: 20)
        #expect(run.status == 0)
        let texts = try progressTexts(run.terminal)
        #expect(!texts.isEmpty)
        for text in texts { #expect(text.count <= 19, "\(text)") }
    }

    @Test func quietPrintsNothingOnTheTerminal() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let run = try TerminalRun.run(["render", "--period", "2024-03", "--quiet", "--out", temp.url.appendingPathComponent("out").path]
                                      + Repository.sampleFiles)
        #expect(run.status == 0)
        #expect(run.terminal == "", "\(run.terminal.debugDescription)")
    }

    @Test func stderrInAFileNeverGetsTheLine() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let log = temp.url.appendingPathComponent("stderr.log").path
        let run = try TerminalRun.run(["render", "--period", "2024-03", "--out", temp.url.appendingPathComponent("out").path]
                                      + Repository.sampleFiles, stderrFile: log)
        #expect(run.status == 0)
        #expect(run.terminal == "", "stdout on the terminal gets nothing either: \(run.terminal.debugDescription)")
        let written = try String(contentsOfFile: log, encoding: .utf8)
        #expect(written.contains("wrote "))
        #expect(!written.contains("\r") && !written.contains("\u{1B}"), "\(written.debugDescription)")
    }
}

@Suite("--jobs")
struct JobsTests {
    @Test func jobsMustBeAPositiveNumber() throws {
        #expect(try BalanceReportBinary.run(["render", "--period", "2024-03", "--jobs", "0", "--out", "/tmp/x"] + Repository.sampleFiles).status == 2)
        #expect(try BalanceReportBinary.run(["validate", "--jobs", "many"] + Repository.sampleFiles).status == 2)
        #expect(try BalanceReportBinary.run(["validate", "--jobs", "1", "--period", "2024-03"] + Repository.sampleFiles).status == 0)
    }

    /// Renders `files` with `--jobs 1` and `--jobs 4` and compares every output file byte for byte;
    /// `validate` prints the same summary too.
    func expectSameOutput(_ files: [String], period: String, extra: [String] = [], minimumFiles: Int) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let single = temp.url.appendingPathComponent("jobs-1")
        let parallel = temp.url.appendingPathComponent("jobs-4")
        let a = try BalanceReportBinary.run(["render", "--period", period, "--jobs", "1", "--quiet", "--out", single.path] + extra + files)
        let b = try BalanceReportBinary.run(["render", "--period", period, "--jobs", "4", "--quiet", "--out", parallel.path] + extra + files)
        #expect(a.status == 0, "\(a.stderr)")
        #expect(b.status == 0, "\(b.stderr)")
        let tree = fileTree(single)
        #expect(tree == fileTree(parallel))
        #expect(tree.count >= minimumFiles, "\(tree.count) files")
        var differing: [String] = []
        for file in tree where try Data(contentsOf: single.appendingPathComponent(file)) != Data(contentsOf: parallel.appendingPathComponent(file)) {
            differing.append(file)
        }
        #expect(differing.isEmpty, "differ between --jobs 1 and --jobs 4: \(differing.prefix(10))")

        let v1 = try BalanceReportBinary.run(["validate", "--period", period, "--jobs", "1"] + extra + files)
        let v4 = try BalanceReportBinary.run(["validate", "--period", period, "--jobs", "4"] + extra + files)
        #expect(v1.status == v4.status)
        #expect(v1.stderr == v4.stderr)
    }

    @Test func theSampleDataRendersTheSameOnOneThreadAndOnFour() throws {
        try expectSameOutput(Repository.sampleFiles, period: "2024-03", minimumFiles: 20)
    }

    @Test func aGeneratedExportRendersTheSameOnOneThreadAndOnFour() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Repository.root.appendingPathComponent("Benchmarks/generate.py").path,
                             "--clients", "250", "--transactions", "6000", "--seed", "7", "--out", temp.url.path]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "Benchmarks/generate.py failed")
        let files = ["clients.csv", "events.csv", "transactions.csv"].map { temp.url.appendingPathComponent($0).path }
        // A quarter, so clients are attached, removed and re-attached inside the period.
        try expectSameOutput(files, period: "2024-Q2", minimumFiles: 300)
    }

    /// The shape the columnar core is built for: rows in no time order, two exports that overlap
    /// (identical repeats), seven timestamp forms; the ledger sorts and lays out on every thread.
    @Test func aShuffledOverlappingExportRendersTheSameOnOneThreadAndOnFour() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Repository.root.appendingPathComponent("Benchmarks/generate.py").path, "--unordered",
                             "--clients", "200", "--transactions", "8000", "--seed", "5", "--out", temp.url.path]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "Benchmarks/generate.py failed")
        let files = ["clients.csv", "events.csv", "transactions-1.csv", "transactions-2.csv"].map { temp.url.appendingPathComponent($0).path }
        try expectSameOutput(files, period: "2024-03", minimumFiles: 300)
    }
}
