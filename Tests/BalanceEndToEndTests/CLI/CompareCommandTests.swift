import Foundation
import Testing
@testable import BalanceTestSupport

/// `render --compare previous` and `render --compare-with DIR` as finance runs them.
@Suite("Command line: comparison")
struct CompareCommandTests {
    func render(_ arguments: [String], period: [String] = ["--period", "2024-03"], out: URL) throws -> CommandResult {
        try BalanceReportBinary.run(["render"] + period + arguments + ["--quiet", "--out", out.path] + Repository.sampleFiles)
    }

    func bytes(_ root: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for file in fileTree(root) { files[file] = try Data(contentsOf: root.appendingPathComponent(file)) }
        return files
    }

    @Test("--compare previous and --compare-with a render of the month before agree byte for byte, whatever its dialect; into the same folder too")
    func bothWaysAgree() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let previous = temp.url.appendingPathComponent("previous")
        let february = temp.url.appendingPathComponent("february")
        let februaryRU = temp.url.appendingPathComponent("february-ru")
        let compared = temp.url.appendingPathComponent("compared")
        let comparedRU = temp.url.appendingPathComponent("compared-ru")
        let plain = temp.url.appendingPathComponent("plain")
        #expect(try render(["--compare", "previous"], out: previous).status == 0)
        #expect(try render([], period: ["--period", "2024-02"], out: february).status == 0)
        #expect(try render(["--csv-dialect", "excel-ru"], period: ["--period", "2024-02"], out: februaryRU).status == 0)
        let with = try render(["--compare-with", february.path], out: compared)
        #expect(with.status == 0, "\(with.stderr)")
        #expect(try render(["--compare-with", februaryRU.path], out: comparedRU).status == 0)
        #expect(try render([], out: plain).status == 0)
        let expected = try bytes(previous)
        #expect(expected.keys.contains("alfa-cloud/changes.csv") && expected.keys.contains("vega-it/changes.csv"))
        #expect(try bytes(compared) == expected)
        #expect(try bytes(comparedRU) == expected)
        // Without a comparison nothing of it is written.
        let without = try bytes(plain)
        #expect(!without.keys.contains { $0.hasSuffix("changes.csv") })
        #expect(Set(expected.keys).subtracting(without.keys) == ["alfa-cloud/changes.csv", "vega-it/changes.csv"])
        // The earlier output is also the folder written: read before it is replaced.
        let same = try render(["--compare-with", february.path], out: february)
        #expect(same.status == 0, "\(same.stderr)")
        #expect(try bytes(february) == expected)
    }

    @Test("refused with exit 1 and the folder named: not an output, a period not before, inputs that do not reach back")
    func refusals() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out")
        let stranger = temp.url.appendingPathComponent("stranger")
        try FileManager.default.createDirectory(at: stranger, withIntermediateDirectories: true)
        var result = try render(["--compare-with", stranger.path], out: out)
        #expect(result.status == 1)
        #expect(result.stderr.contains("--compare-with \(stranger.path) is not an output of balance-report"))
        #expect(!FileManager.default.fileExists(atPath: out.path))
        // Refused before any export is read: a missing input is not even reached.
        let early = try BalanceReportBinary.run(["render", "--period", "2024-03", "--compare-with", stranger.path, "--out", out.path,
                                                 temp.url.appendingPathComponent("missing.csv").path])
        #expect(early.status == 1 && early.stderr.contains("is not an output of balance-report") && !early.stderr.contains("missing.csv"))

        let march = temp.url.appendingPathComponent("march")
        #expect(try render([], out: march).status == 0)
        result = try render(["--compare-with", march.path], out: out)
        #expect(result.status == 1)
        #expect(result.stderr.contains("is of 2024-03-01 – 2024-03-31, which is not before 2024-03-01 – 2024-03-31"))

        // sample-data has no transaction before February 2024: the days before January 1–10 are not covered.
        let january = try BalanceReportBinary.run(["render", "--from", "2024-01-01", "--to", "2024-01-10", "--compare", "previous",
                                                 "--quiet", "--out", out.path] + Repository.sampleFiles)
        #expect(january.status == 1)
        #expect(january.stderr.contains("--compare previous: the inputs hold no transaction before 2024-01-01"))
        #expect(!FileManager.default.fileExists(atPath: out.path))

        #expect(try render(["--compare", "next"], out: out).status == 2)
        #expect(try render(["--compare", "previous", "--compare-with", march.path], out: out).status == 2)
    }
}
