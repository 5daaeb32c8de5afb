import Foundation
import Testing
@testable import BalanceTestSupport
@testable import BalancePipeline
@testable import BalanceSend
@testable import BalanceOutput
@testable import BalanceRender
@testable import BalanceReport
@testable import BalanceIngest
@testable import BalanceModel
@testable import BalanceSupport

/// Issue 23: a clients record's `balance_currency` (the checkpoint's currency), read through the
/// real CSV ingest, and a profile's `balances:` key.
@Suite("Ingest: balance_currency and balances")
struct CheckpointCurrencyTests {
    static let header = "client_id,name,email,phone,partner_id,balance,balance_at,balance_currency\n"

    static func ingest(_ rows: String) throws -> (export: IngestedExport, path: String) {
        try IngestorTests.ingest("clients.csv", header + rows)
    }

    @Test("a three-letter balance_currency is the checkpoint's currency; an empty one leaves it to the client's money")
    func validCodes() throws {
        let (export, _) = try Self.ingest("""
            c1,One,c1@example.com,,p1,10.50,2024-03-01 00:00:00,USD
            c2,Two,c2@example.com,,p1,-3,2024-03-01 00:00:00,
            c3,Three,c3@example.com,,p1,,,

            """)
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        #expect(export.clients.map(\.id) == ["c1", "c2", "c3"])
        #expect(export.clients[0].checkpoint?.currency == "USD")
        #expect(export.clients[0].checkpoint?.balance == Money(picos: 10_500_000_000_000))
        #expect(export.clients[1].checkpoint != nil && export.clients[1].checkpoint?.currency == nil)
        #expect(export.clients[2].checkpoint == nil)
    }

    @Test("a balance_currency that is not three capital letters refuses the record, naming the value", arguments: [
        ("usd", "balance_currency 'usd' is not a three-letter code"),
        ("Usd", "balance_currency 'Usd' is not a three-letter code"),
        ("US", "balance_currency 'US' is not a three-letter code"),
        ("USDT", "balance_currency 'USDT' is not a three-letter code"),
        ("₽", "balance_currency '₽' is not a three-letter code"),
    ])
    func refusedCodes(_ code: String, _ reason: String) throws {
        let (export, path) = try Self.ingest("c1,One,c1@example.com,,p1,10,2024-03-01 00:00:00,\(code)\nc2,Two,c2@example.com,,p1,1,2024-03-01 00:00:00,RUB\n")
        #expect(export.clients.map(\.id) == ["c2"])
        try #require(export.rejections.count == 1, "\(export.rejections)")
        #expect(export.rejections[0].kind == .client)
        #expect(export.rejections[0].source.line == 2)
        #expect(export.rejections[0].reason.contains(reason), "\(export.rejections[0].reason)")
        #expect(!path.isEmpty)
    }

    @Test("balance_currency without a balance refuses the record")
    func currencyWithoutBalance() throws {
        let (export, _) = try Self.ingest("c1,One,c1@example.com,,p1,,,USD\n")
        #expect(export.clients.isEmpty)
        try #require(export.rejections.count == 1, "\(export.rejections)")
        #expect(export.rejections[0].reason.contains("balance_currency without a balance"), "\(export.rejections[0].reason)")
    }

    @Test("the checkpoint's currency read from CSV picks the account of a client with money in two currencies")
    func checkpointPicksTheAccount() throws {
        let (export, _) = try IngestorTests.ingest([
            ("clients.csv", Array((Self.header + "c1,One,c1@example.com,,p1,40,2024-02-01 00:00:00,USD\n").utf8)),
            ("transactions.csv", Array((IngestorTests.transactionsHeader
                + "t1,2024-03-01 10:00:00,c1,topup,,10,RUB,\n"
                + "t2,2024-03-02 10:00:00,c1,charge,vm,5,USD,\n").utf8)),
        ])
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        let ledger = Ledger.build(from: export)
        let c1 = try #require(ledger.clients[ByteKey("c1")])
        #expect(c1.accounts.map(\.currency) == ["RUB", "USD"])
        #expect(c1.accounts.first { $0.currency == "USD" }?.checkpoint?.balance == Money(picos: 40 * Money.scale))
        #expect(c1.accounts.first { $0.currency == "RUB" }?.checkpoint == nil)
    }

    // MARK: profiles

    @Test("a profile's balances: yes or no sets the layout; the default has balances", arguments: [
        ("balances: no\n", false), ("balances: NO\n", false), ("balances: false\n", false),
        ("balances: yes\n", true), ("balances: true\n", true), ("delimiter: ';'\n", true),
    ])
    func balancesKey(_ yaml: String, _ expected: Bool) throws {
        #expect(try ImportProfile.parse(yaml, path: "p.yaml").balances == expected)
    }

    @Test("balances: anything else is an error naming the key and the value")
    func badBalances() {
        let error = #expect(throws: ProfileError.self) { try ImportProfile.parse("balances: bad\n", path: "p.yaml") }
        #expect(error?.message.contains("balances is yes or no, got 'bad'") == true, "\(String(describing: error))")
    }

    @Test("the built-in focus and yandex-cloud-partner profiles are postpaid; generic CSV is not")
    func builtInLayouts() throws {
        #expect(try ImportProfile.resolve("focus").balances == false)
        #expect(try ImportProfile.resolve("yandex-cloud-partner").balances == false)
        #expect(ImportProfile().balances)
    }
}
