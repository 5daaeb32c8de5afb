@testable import BalanceTestSupport
@testable import BalancePipeline
@testable import BalanceSend
@testable import BalanceOutput
@testable import BalanceRender
@testable import BalanceReport
@testable import BalanceIngest
@testable import BalanceModel
@testable import BalanceSupport
import Testing

/// Issue 23: a postpaid layout (a profile's `balances: no`): a cost export has no payments, so
/// its running sums are no balances. Nothing is a debt, nothing runs out, there is no runway, and
/// the balance columns are empty; spend is shown as ever.
@Suite("Report: postpaid layouts (balances: no)")
struct PostpaidTests: ModelBuilders {
    /// `spender` only spends (a debt if read as a balance); `thin` has a little left at a high
    /// recent spend rate (running out if read as a balance).
    func costExport() -> IngestedExport {
        export([
            tx("s1", "2024-03-05 10:00:00", client: "spender", .charge, service: "vm", "500"),
            tx("s2", "2024-03-28 10:00:00", client: "spender", .charge, service: "vm", "70"),
            tx("t0", "2024-03-01 10:00:00", client: "thin", .topup, "100"),
            tx("t1", "2024-03-28 10:00:00", client: "thin", .charge, service: "db", "90"),
        ], clients: [clientRecord("spender"), clientRecord("thin")])
    }

    func build(balances: Bool) throws -> RunReport {
        let e = costExport()
        return ReportBuilder.build(ledger: Ledger.build(from: e), export: e, period: try ReportPeriod.parse("2024-03"), balances: balances)
    }

    @Test("the same export read with balances is in debt and running out; read postpaid, nothing needs attention and there is no runway")
    func noDebtNoRunway() throws {
        let prepaid = try build(balances: true)
        #expect(prepaid.showsBalances)
        #expect(try clientReport(prepaid, "spender").attention.reasons.contains(.inDebt))
        #expect(try clientReport(prepaid, "thin").attention.reasons.contains(.runningOut))
        #expect(try partner(prepaid).attention.count == 2)

        let postpaid = try build(balances: false)
        #expect(!postpaid.showsBalances)
        let p1 = try partner(postpaid)
        #expect(p1.attention.isEmpty)
        for client in p1.clients {
            #expect(client.showsBalances == false)
            #expect(client.attention.reasons.isEmpty, "\(client.client.id): \(client.attention)")
            #expect(client.runway == nil, "\(client.client.id)")
            #expect(client.lowestBalance == nil, "\(client.client.id)")
        }
        // The spend is what it was.
        #expect(try clientReport(postpaid, "spender").movement?.charges == money("570"))
        #expect(p1.totals.charges == money("660"))
        #expect(p1.services == [spend("db", charged: "90"), spend("vm", charged: "570")])
        #expect(postpaid.summary.controlFailures.isEmpty, "\(postpaid.summary.controlFailures)")
    }

    @Test("postpaid snapshot.csv: balance, rate and runway columns empty, spend columns filled", arguments: ReportLanguage.allCases)
    func snapshotColumns(_ language: ReportLanguage) throws {
        let set = try RepositoryTemplates.set(language)
        let renderer = ReportRenderer(templates: set, dialect: .standard)
        func rows(_ report: RunReport) throws -> [String: [String]] {
            let csv = String(decoding: try renderer.page(set.snapshotCSV, try partner(report), report), as: UTF8.self)
            var rows: [String: [String]] = [:]
            for line in csv.split(separator: "\n").dropFirst() {
                let fields = line.trimmingCharacters(in: ["\r"]).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                rows[fields[0]] = fields
            }
            return rows
        }
        // Columns: 6 opening_balance, 7 topups, 8 charges, 9 refunds, 10 unattached_change,
        // 11 closing_balance, 12 spend_rate_daily, 13 runway_days.
        let prepaid = try rows(try build(balances: true))
        #expect(prepaid["spender"]?[11] == "-570.00", "\(prepaid)")
        let postpaid = try rows(try build(balances: false))
        for id in ["spender", "thin"] {
            let fields = try #require(postpaid[id], "\(postpaid)")
            #expect(fields.count == 14, "\(fields)")
            #expect([6, 10, 11, 13].map { fields[$0] } == ["", "", "", ""], "\(id): \(fields)")
        }
        #expect(postpaid["spender"]?[8] == "570.00")
        #expect(postpaid["thin"]?[7] == "100.00" && postpaid["thin"]?[8] == "90.00")
    }

    @Test("the templates' shows_balances flag follows the layout")
    func showsBalancesFlag() throws {
        let set = try RepositoryTemplates.set(.en)
        let renderer = ReportRenderer(templates: set, dialect: .standard)
        let template = try Template(name: "t", source: "{{#shows_balances}}balances{{/shows_balances}}{{^shows_balances}}spend{{/shows_balances}}",
                                    contentType: .html)
        for (balances, expected) in [(true, "balances"), (false, "spend")] {
            let report = try build(balances: balances)
            #expect(String(decoding: try renderer.page(template, try partner(report), report), as: UTF8.self) == expected)
        }
    }
}
