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

/// Issue 23: a run of several currencies (SPEC §2.1, §4). Amounts of two currencies are never
/// added, compared or ranked against each other: each partner keeps a book per currency, the
/// attention ranking compares debts and spikes only within a currency, and the control totals
/// hold per currency.
@Suite("Report: several currencies")
struct CurrencyReportTests: ModelBuilders {
    /// The entry of `client` in `currency`.
    func entry(_ partner: PartnerReport, _ client: String, _ currency: String,
               sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> ClientReport {
        try #require(partner.clients.first { $0.client.id.bytesEqual(client) && $0.currency.bytesEqual(currency) },
                     "no entry of \(client) in \(currency)", sourceLocation: sourceLocation)
    }

    func book(_ partner: PartnerReport, _ currency: String,
              sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> PartnerCurrency {
        try #require(partner.book(currency), "partner \(partner.partnerID) has no \(currency) book", sourceLocation: sourceLocation)
    }

    // MARK: books per currency

    @Test("a partner with RUB and USD clients has two books, each the sum of its own entries; nothing is summed across them")
    func booksPerCurrency() throws {
        let report = try runReport(export([
            tx("r1", "2024-03-01 10:00:00", client: "c1", .topup, "100"),
            tx("r2", "2024-03-05 10:00:00", client: "c1", .charge, service: "vm", "30"),
            tx("u1", "2024-03-01 10:00:00", client: "c2", .topup, "50", currency: "USD"),
            tx("u2", "2024-03-05 10:00:00", client: "c2", .charge, service: "vm", "20", currency: "USD"),
            tx("u3", "2024-03-06 10:00:00", client: "c2", .refund, service: "vm", "2", currency: "USD"),
            tx("r3", "2024-03-01 10:00:00", client: "c3", .topup, "10"),
            tx("r4", "2024-03-07 10:00:00", client: "c3", .charge, service: "db", "5"),
            // c4 has money in both: two entries, one in each book.
            tx("r5", "2024-03-02 10:00:00", client: "c4", .topup, "7"),
            tx("u4", "2024-03-02 10:00:00", client: "c4", .charge, service: "db", "3", currency: "USD"),
        ], clients: ["c1", "c2", "c3", "c4"].map { clientRecord($0) }))
        #expect(report.currencies == ["RUB", "USD"])
        #expect(report.isMultiCurrency)
        let p1 = try partner(report)
        #expect(p1.currencies.map(\.currency) == ["RUB", "USD"])
        #expect(p1.isMultiCurrency)
        // Entries by client id, then currency; c4 is one client of two entries.
        #expect(p1.clients.map { "\($0.client.id)/\($0.currency)" } == ["c1/RUB", "c2/USD", "c3/RUB", "c4/RUB", "c4/USD"])
        #expect(p1.clientCount == 4)

        let rub = try book(p1, "RUB"), usd = try book(p1, "USD")
        #expect(rub.totals == movement("0", topups: "117", charges: "35", "82"))
        #expect(usd.totals == movement("0", topups: "50", charges: "23", refunds: "2", "29"))
        #expect(rub.services == [spend("db", charged: "5"), spend("vm", charged: "30")])
        #expect(usd.services == [spend("db", charged: "3"), spend("vm", charged: "20", refunded: "2")])
        // Each book is the sum of its own entries, and only of them.
        for book in p1.currencies {
            let members = p1.clients.filter { $0.currency.bytesEqual(book.currency) }
            #expect(book.totals == members.compactMap(\.movement).reduce(BalanceMovement(), +), "\(book.currency)")
            #expect(book.bySpend.allSatisfy { p1.clients[$0].currency.bytesEqual(book.currency) }, "\(book.currency)")
            #expect(book.bySpend.count == members.count)
        }
        // The two entries of c4 keep their own balances.
        #expect(try entry(p1, "c4", "RUB").movement == movement("0", topups: "7", "7"))
        #expect(try entry(p1, "c4", "USD").movement == movement("0", charges: "3", "-3"))
        #expect(report.summary.controlFailures.isEmpty, "\(report.summary.controlFailures)")
    }

    @Test("bySpend ranks each currency's entries among themselves, whatever the other currency's amounts")
    func bySpendWithinACurrency() throws {
        let report = try runReport(export([
            tx("a", "2024-03-05 10:00:00", client: "a", .charge, service: "S", "10"),
            tx("b", "2024-03-05 10:00:00", client: "b", .charge, service: "S", "1000", currency: "USD"),
            tx("c", "2024-03-05 10:00:00", client: "c", .charge, service: "S", "50"),
            tx("d", "2024-03-05 10:00:00", client: "d", .charge, service: "S", "5", currency: "USD"),
            tx("e", "2024-03-05 10:00:00", client: "e", .charge, service: "S", "20"),
        ], clients: ["a", "b", "c", "d", "e"].map { clientRecord($0) }))
        let p1 = try partner(report)
        func ids(_ currency: String) throws -> [String] { try book(p1, currency).bySpend.map { p1.clients[$0].client.id } }
        #expect(try ids("RUB") == ["c", "e", "a"])
        #expect(try ids("USD") == ["b", "d"])
    }

    // MARK: attention

    @Test("debts of two currencies are never compared: each currency's debtors are ranked among themselves, currencies in code order")
    func debtsRankedWithinACurrency() throws {
        // Compared as numbers, a's 100 USD debt is larger than b's 5 RUB and would come first (and
        // a is first by id too); within currencies, RUB comes before USD.
        let report = try runReport(export([
            tx("a1", "2024-03-05 10:00:00", client: "a", .charge, service: "S", "100", currency: "USD"),
            tx("b1", "2024-03-05 10:00:00", client: "b", .charge, service: "S", "5"),
            tx("c1", "2024-03-05 10:00:00", client: "c", .charge, service: "S", "1", currency: "USD"),
            tx("d1", "2024-03-05 10:00:00", client: "d", .charge, service: "S", "50"),
        ], clients: ["a", "b", "c", "d"].map { clientRecord($0) }))
        let p1 = try partner(report)
        #expect(p1.clients.allSatisfy { $0.attention.reasons.contains(.inDebt) })
        // RUB: d (−50) before b (−5); then USD: a (−100) before c (−1).
        #expect(p1.attention.map { p1.clients[$0].client.id } == ["d", "b", "a", "c"])
    }

    @Test("spikes of two currencies are never compared: the larger spike in USD comes after the smaller one in RUB")
    func spikesRankedWithinACurrency() throws {
        // Ten a day for seven days, then a jump: x jumps 5000 USD, y 2000 RUB.
        var transactions: [Transaction] = []
        for (client, currency, jump) in [("x", "USD", "5000"), ("y", "RUB", "2000")] {
            transactions.append(tx("\(client)-top", "2024-03-01 09:00:00", client: client, .topup, "1000000", currency: currency))
            for day in 1...7 {
                transactions.append(tx("\(client)-\(day)", "2024-03-0\(day) 10:00:00", client: client, .charge, service: "S", "10", currency: currency))
            }
            transactions.append(tx("\(client)-jump", "2024-03-08 10:00:00", client: client, .charge, service: "S", jump, currency: currency))
        }
        let p1 = try partner(try runReport(export(transactions, clients: [clientRecord("x"), clientRecord("y")])))
        #expect(p1.clients.allSatisfy { $0.attention.reasons == .spendJumped }, "\(p1.clients.map(\.attention))")
        #expect(p1.attention.map { p1.clients[$0].client.id } == ["y", "x"])
    }

    // MARK: control totals

    /// c1 in RUB, c2 in USD, c3 in both.
    func twoCurrencyExport() -> IngestedExport {
        export([
            tx("r1", "2024-03-01 10:00:00", client: "c1", .topup, "100"),
            tx("r2", "2024-03-05 10:00:00", client: "c1", .charge, service: "S", "10"),
            tx("u1", "2024-03-01 10:00:00", client: "c2", .topup, "50", currency: "USD"),
            tx("u2", "2024-03-05 10:00:00", client: "c2", .charge, service: "S", "5", currency: "USD"),
            tx("u3", "2024-03-06 10:00:00", client: "c3", .refund, service: "S", "1", currency: "USD"),
            tx("r3", "2024-03-06 10:00:00", client: "c3", .charge, service: "S", "2"),
        ], clients: ["c1", "c2", "c3"].map { clientRecord($0) })
    }

    func totals(_ topups: String, _ charges: String, _ refunds: String) -> KindTotals {
        var t = KindTotals()
        t.topups = money(topups)
        t.charges = money(charges)
        t.refunds = money(refunds)
        return t
    }

    @Test("accepted and reported totals are kept per currency, and agree")
    func controlTotalsPerCurrency() throws {
        let summary = try runReport(twoCurrencyExport()).summary
        #expect(summary.acceptedTotals.currencies == ["RUB", "USD"])
        #expect(summary.acceptedTotals["RUB"] == totals("100", "12", "0"))
        #expect(summary.acceptedTotals["USD"] == totals("50", "5", "1"))
        #expect(summary.reportedTotals == summary.acceptedTotals)
        #expect(summary.outcomes[.transaction]?[.accepted]?.amounts["RUB"] == money("112"))
        #expect(summary.outcomes[.transaction]?[.accepted]?.amounts["USD"] == money("56"))
        #expect(summary.controlFailures.isEmpty, "\(summary.controlFailures)")
    }

    @Test("one currency's tampered reported totals fail the controls, named with that currency only")
    func tamperedCurrencyIsNamed() throws {
        var summary = try runReport(twoCurrencyExport()).summary
        summary.reportedTotals["USD", default: KindTotals()].charges += money("1")
        #expect(summary.controlFailures == ["the reports show top-ups 50.00, charges 6.00, refunds 1.00 USD but accepted were 50.00, 5.00, 1.00"])
    }

    @Test("a difference in one currency is not offset by the opposite difference in another")
    func differencesDoNotCancel() throws {
        var summary = try runReport(twoCurrencyExport()).summary
        summary.reportedTotals["RUB", default: KindTotals()].charges += money("3")
        summary.reportedTotals["USD", default: KindTotals()].charges -= money("3")
        let failures = summary.controlFailures
        #expect(failures.count == 2, "\(failures)")
        #expect(failures.contains { $0.contains(" RUB but accepted") })
        #expect(failures.contains { $0.contains(" USD but accepted") })
    }

    @Test("a partner's book that takes another currency's entry fails the controls, named with the partner and currency")
    func tamperedBook() throws {
        let e = twoCurrencyExport()
        let ledger = Ledger.build(from: e)
        let period = try ReportPeriod.parse("2024-03")
        var partners = ReportBuilder.partnerReports(ledger: ledger, period: period)
        let usd = try #require(partners[0].currencies.firstIndex { $0.currency == "USD" })
        partners[0].currencies[usd].totals = partners[0].currencies[usd].totals + partners[0].clients[0].movement!
        let summary = RunSummary.build(ledger: ledger, export: e, period: period.interval, partners: partners)
        #expect(!summary.controlFailures.isEmpty)
        #expect(summary.controlFailures.allSatisfy { $0.hasPrefix("partner p1 (USD)") }, "\(summary.controlFailures)")
    }

    // MARK: --compare previous

    @Test("--compare previous compares each currency with itself: a comparison per currency, none across them")
    func comparisonPerCurrency() throws {
        let e = export([
            tx("r1", "2024-02-10 10:00:00", client: "c1", .charge, service: "S", "100"),
            tx("r2", "2024-03-10 10:00:00", client: "c1", .charge, service: "S", "150"),
            tx("u1", "2024-02-10 10:00:00", client: "c1", .charge, service: "S", "10", currency: "USD"),
            tx("u2", "2024-03-10 10:00:00", client: "c1", .charge, service: "S", "5", currency: "USD"),
            tx("u3", "2024-02-11 10:00:00", client: "c2", .charge, service: "S", "1000", currency: "USD"),
            tx("u4", "2024-03-11 10:00:00", client: "c2", .charge, service: "S", "1", currency: "USD"),
        ], clients: [clientRecord("c1"), clientRecord("c2")])
        let ledger = Ledger.build(from: e)
        var run = ReportBuilder.build(ledger: ledger, export: e, period: try ReportPeriod.parse("2024-03"))
        try Comparison.comparePrevious(&run, ledger: ledger)
        let p1 = try partner(run)
        #expect(p1.hasComparison)
        #expect(p1.comparison == nil)   // no single comparison of a partner of two currencies
        let rub = try #require(try book(p1, "RUB").comparison)
        let usd = try #require(try book(p1, "USD").comparison)
        #expect(rub.previousSpend == money("100") && rub.currentSpend == money("150"))
        #expect(usd.previousSpend == money("1010") && usd.currentSpend == money("6"))
        #expect(rub.rows.map { "\($0.clientID) \($0.previous?.description ?? "-") \($0.current?.description ?? "-")" } == ["c1 100.00 150.00"])
        #expect(usd.rows.map { "\($0.clientID) \($0.previous?.description ?? "-") \($0.current?.description ?? "-")" }
                == ["c1 10.00 5.00", "c2 1000.00 1.00"])
        // The largest fall in USD is c2's −999, never compared with RUB's rise.
        #expect(usd.falls.first.map { usd.rows[$0].clientID } == "c2")
        #expect(rub.rises.map { rub.rows[$0].clientID } == ["c1"] && rub.falls.isEmpty)
    }

    // MARK: money the partner does not see

    @Test("a client whose money (in two currencies) the partner does not see is one entry, of no account and no money")
    func invisibleClientIsOneEntry() throws {
        let report = try runReport(export([
            tx("h1", "2024-03-02 10:00:00", client: "hidden", .topup, "10"),
            tx("h2", "2024-03-03 10:00:00", client: "hidden", .charge, service: "S", "4", currency: "USD"),
            tx("v1", "2024-03-02 10:00:00", client: "seen", .topup, "10", currency: "KZT"),
        ], clients: [clientRecord("hidden"), clientRecord("seen")],
        events: [ev("hidden", "2024-02-01 10:00:00", .invited), ev("seen", "2024-02-01 10:00:00", .invited),
                 ev("seen", "2024-02-02 10:00:00", .confirmed)]))
        let p1 = try partner(report)
        let hidden = p1.clients.filter { $0.client.id == "hidden" }
        #expect(hidden.count == 1)
        #expect(hidden.first?.movement == nil)
        #expect(hidden.first?.hasAccount == false)
        #expect(hidden.first?.state == .invited)
        // Listed in the partner's first currency, whose book its money does not reach.
        #expect(p1.clients.map(\.currency) == ["KZT", "KZT"])
        #expect(p1.currencies.map(\.currency) == ["KZT"])
        #expect(try book(p1, "KZT").totals == movement("0", topups: "10", "10"))
        #expect(p1.clientCount == 2)
        // The run still holds the unseen currencies (their records are outside the attachment).
        #expect(report.currencies == ["KZT", "RUB", "USD"])
        #expect(report.summary.outcomes[.transaction]?[.outsideAttachment]?.count == 2)
        #expect(report.summary.controlFailures.isEmpty, "\(report.summary.controlFailures)")
        // What the row shows: no currency, empty money columns.
        let row = try #require(hidden.first)
        if case .text(let text)? = ReportRenderer.clientValue(row, "currency") { #expect(text == "") } else { Issue.record("currency is not text") }
        if case .text(let text)? = ReportRenderer.clientValue(row, "closing_balance") { #expect(text == "") } else { Issue.record("closing_balance is not text") }
        if case .flag(let on)? = ReportRenderer.clientValue(row, "has_money") { #expect(!on) } else { Issue.record("has_money is not a flag") }
    }
}
