import Foundation
import Testing
@testable import BalanceTestSupport

/// Issue 23, point 2: `Tests/scripts/check_invoices.py` recomputes every figure of every
/// `invoices.csv` from the raw FOCUS rows (stdlib `csv` and `decimal`, nothing of the tool), and
/// must agree with the built binary's render, over several periods and FOCUS versions.
@Suite("Invoices: an independent check agrees with every figure")
struct InvoiceCheckTests {
    /// python3 on the PATH: the check needs nothing else.
    static let hasPython: Bool = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").contains {
        FileManager.default.isExecutableFile(atPath: "\($0)/python3")
    }

    static func fixtures(_ folder: String) throws -> [String] {
        let path = Repository.root.appendingPathComponent("sample-data/" + folder).path
        return try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".csv") }.sorted().map { path + "/" + $0 }
    }

    /// Renders `folder`'s exports from `first` to `last` (Moscow days) into a new folder of `temp`.
    static func render(_ folder: String, _ first: String, _ last: String, in temp: TemporaryFolder) throws -> (out: String, files: [String]) {
        let files = try fixtures(folder)
        let out = temp.url.appendingPathComponent("out-\(folder)-\(first)").path
        let result = try BalanceReportBinary.run(["render", "--from", first, "--to", last, "--profile", "focus", "--quiet", "--out", out] + files)
        #expect(result.status == 0, "\(result.stderr)")
        return (out, files)
    }

    @Test("check_invoices.py agrees with invoices.csv", .enabled(if: InvoiceCheckTests.hasPython), arguments: [
        ("focus-invoices", "2024-09-01", "2024-09-30"),
        // A shorter period: the corrections booked on 1 September fall outside it, like any row.
        ("focus-invoices", "2024-09-10", "2024-09-20"),
        // August: the August invoice's rows of the first Moscow hours of September are its month edge.
        ("focus-invoices", "2024-08-01", "2024-08-31"),
        ("focus-1.2", "2024-09-01", "2024-09-30"),
        ("focus-1.3", "2024-09-01", "2024-09-30"),
    ])
    func agrees(_ folder: String, _ first: String, _ last: String) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let (out, files) = try Self.render(folder, first, last, in: temp)
        let invoices = fileTree(URL(fileURLWithPath: out)).filter { $0.hasSuffix("/invoices.csv") }
        #expect(!invoices.isEmpty, "no invoices.csv written")
        let check = try PythonScript.run("check_invoices.py", [first, last, out] + files)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.hasSuffix("invoices agree exactly\n"), "\(check.stdout)")
    }

    @Test("the check fails on a figure changed by one pico-unit, and on a missing invoice", .enabled(if: InvoiceCheckTests.hasPython))
    func checkerBites() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let (out, files) = try Self.render("focus-invoices", "2024-09-01", "2024-09-30", in: temp)
        let path = out + "/acct-a/invoices.csv"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        #expect(original.contains(",9.04\n"))
        try Data(original.replacingOccurrences(of: ",9.04\n", with: ",9.040000000001\n").utf8).write(to: URL(fileURLWithPath: path))
        let changed = try PythonScript.run("check_invoices.py", ["2024-09-01", "2024-09-30", out] + files)
        #expect(changed.status == 1 && changed.stderr.contains("difference"), "\(changed.stderr)")

        let rows = original.split(separator: "\n", omittingEmptySubsequences: false)
        try Data(rows.filter { !$0.hasPrefix("INV-A-2024-08,") }.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        let missing = try PythonScript.run("check_invoices.py", ["2024-09-01", "2024-09-30", out] + files)
        #expect(missing.status == 1 && missing.stderr.contains("no row in invoices.csv"), "\(missing.stderr)")
    }

    @Test("corrections of earlier periods are September's: accepted, in the client detail, check_net.py agrees with services.csv",
          .enabled(if: InvoiceCheckTests.hasPython))
    func correctionsInThePeriod() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let (out, files) = try Self.render("focus-invoices", "2024-09-01", "2024-09-30", in: temp)
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", Repository.root.appendingPathComponent("scripts/check_net.py").path, "focus", "2024-09-01", "2024-09-30", out] + files
        let pipe = Pipe()
        check.standardError = pipe
        try check.run()
        let problems = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        #expect(check.terminationStatus == 0, "\(problems)")

        // Every record one outcome: 18 rows, the four corrections of earlier periods accepted; only the four rows
        // whose own time is outside the Moscow month are outside the period.
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as? [String: Any]
        let transactions = (summary?["records"] as? [String: Any])?["transaction"] as? [String: Any]
        #expect((transactions?["accepted"] as? [String: Any])?["count"] as? Int == 14)
        #expect((transactions?["outside_period"] as? [String: Any])?["count"] as? Int == 4)
        let detail = try String(contentsOfFile: out + "/acct-a/clients/sub-2.csv", encoding: .utf8)
        #expect(detail.contains("a-08,2024-09-01T03:00:00+03:00,charge,Storage,2.25,"))
        let page = try String(contentsOfFile: out + "/acct-a/clients/sub-2.html", encoding: .utf8)
        #expect(page.contains("Correction of 2024-08 (charge period from 2024-08-20T03:00:00+03:00): Late usage of 20 August"))
    }
}
