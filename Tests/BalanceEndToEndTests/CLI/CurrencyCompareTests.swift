import Foundation
import Testing
@testable import BalanceTestSupport

/// Issue 23: comparing a run of several currencies, through the binary.
@Suite("Command line: comparing a run of several currencies")
struct CurrencyCompareTests {
    static func inputs(_ folder: String) throws -> [String] {
        let path = Repository.root.appendingPathComponent("sample-data/" + folder).path
        return try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".csv") }.sorted().map { path + "/" + $0 }
    }

    @Test("--compare previous compares each currency with itself: changes.csv says the currency")
    func comparePreviousPerCurrency() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out")
        let result = try BalanceReportBinary.run(["render", "--period", "2024-03", "--compare", "previous", "--quiet", "--out", out.path]
                                                 + (try Self.inputs("currencies")))
        #expect(result.status == 0, "\(result.stderr)")
        let changes = try String(contentsOf: out.appendingPathComponent("orion/changes.csv"), encoding: .utf8)
        // A section per currency; mc-2's RUB and USD spend are two rows, compared each with itself.
        #expect(changes == """
            client_id,service,previous_net,net,change,currency
            mc-1,Compute Cloud,150.00,420.50,270.50,RUB
            mc-2,Object Storage,0.00,1200.00,1200.00,RUB
            mc-2,Compute Cloud,0.00,30.50,30.50,USD

            """)
    }

    @Test("--compare-with an earlier output of one currency from a run of several: each currency with itself, new and gone per currency")
    func compareWithPerCurrency() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let february = temp.url.appendingPathComponent("feb")
        let earlier = try BalanceReportBinary.run(["render", "--period", "2024-02", "--quiet", "--out", february.path,
                                                   "sample-data/clients.csv", "sample-data/events.csv", "sample-data/transactions-2024-03.csv"])
        #expect(earlier.status == 0, "\(earlier.stderr)")
        let out = temp.url.appendingPathComponent("out")
        let result = try BalanceReportBinary.run(["render", "--period", "2024-03", "--compare-with", february.path, "--quiet", "--out", out.path]
                                                 + (try Self.inputs("currencies")))
        #expect(result.status == 0, "\(result.stderr)")
        // The earlier output's partners are not this run's: every client here is new, in its own currency.
        let changes = try String(contentsOf: out.appendingPathComponent("orion/changes.csv"), encoding: .utf8)
        let rows = changes.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(!rows.isEmpty && rows.allSatisfy { $0[2].isEmpty && ["KZT", "RUB", "USD"].contains(String($0.last!)) }, "\(changes)")
    }
}
