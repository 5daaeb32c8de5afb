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

@Suite("Model: Ledger")
struct LedgerTests: ModelBuilders {
    let t = ModelTestFile.transactions
    let t2 = ModelTestFile.moreTransactions

    // MARK: transaction duplicates and conflicts

    @Test("an identical duplicate counts once and is listed in duplicates")
    func identicalDuplicate() throws {
        let e = export([
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .charge, service: "S", "10.50", file: t, line: 2),
            tx("t2", "2024-03-01T11:00:00+03:00", client: "c1", .topup, "5", file: t, line: 3),
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .charge, service: "S", "10.50", file: t2, line: 7),
        ], clients: [clientRecord("c1")])
        let ledger = Ledger.build(from: e)
        let client = try #require(ledger.clients["c1"])
        #expect(client.transactions.map(\.id) == ["t1", "t2"])
        #expect(client.transactions.first?.source == source(t, 2))
        #expect(ledger.duplicates == [Duplicate(kind: .transaction, source: source(t2, 7), original: source(t, 2), amount: money("10.50"))])
        #expect(ledger.rejections.isEmpty)
    }

    @Test("the same instant written in another offset is still an identical duplicate")
    func duplicateAcrossOffsets() throws {
        let e = export([
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .charge, service: "S", "1", file: t),
            tx("t1", "2024-03-01T07:00:00Z", client: "c1", .charge, service: "S", "1.000", file: t2),
        ], clients: [clientRecord("c1")])
        let ledger = Ledger.build(from: e)
        #expect(ledger.clients["c1"]?.transactions.count == 1)
        #expect(ledger.duplicates.count == 1)
        #expect(ledger.rejections.isEmpty)
    }

    @Test("the same id with a different amount: both rejected, each naming the other's location")
    func conflictingAmount() throws {
        let e = export([
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .charge, service: "S", "10.00", file: t, line: 2),
            tx("t9", "2024-03-02T10:00:00+03:00", client: "c1", .charge, service: "S", "1.00", file: t, line: 3),
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .charge, service: "S", "11.00", file: t2, line: 5),
        ], clients: [clientRecord("c1")])
        let ledger = Ledger.build(from: e)
        #expect(ledger.clients["c1"]?.transactions.map(\.id) == ["t9"])
        #expect(ledger.duplicates.isEmpty)
        #expect(ledger.rejections.count == 2)
        let first = try #require(ledger.rejections.first { $0.source == source(t, 2) })
        let second = try #require(ledger.rejections.first { $0.source == source(t2, 5) })
        #expect(first.kind == .transaction)
        #expect(first.recordID == "t1")
        #expect(first.amount == money("10.00"))
        #expect(first.reason.contains("transactions-b.csv:5"))
        #expect(second.kind == .transaction)
        #expect(second.recordID == "t1")
        #expect(second.amount == money("11.00"))
        #expect(second.reason.contains("transactions-a.csv:2"))
        #expect(second.reason.contains("amount"))
    }

    @Test("a conflict in any field (description, service, time, type, client) rejects both", arguments: [
        ("description", "2024-03-01T10:00:00+03:00", "c1", TransactionKind.charge, "S", "other text"),
        ("service", "2024-03-01T10:00:00+03:00", "c1", .charge, "K", ""),
        ("timestamp", "2024-03-01T10:00:01+03:00", "c1", .charge, "S", ""),
        ("type", "2024-03-01T10:00:00+03:00", "c1", .refund, "S", ""),
        ("client_id", "2024-03-01T10:00:00+03:00", "c2", .charge, "S", ""),
    ])
    func conflictingField(field: String, time: String, client: String, kind: TransactionKind, service: String, description: String) throws {
        let e = export([
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .charge, service: "S", "10", file: t, line: 2),
            tx("t1", time, client: client, kind, service: service, "10", description: description, file: t2, line: 2),
        ], clients: [clientRecord("c1"), clientRecord("c2")])
        let ledger = Ledger.build(from: e)
        #expect(ledger.rejections.count == 2)
        #expect(ledger.rejections.contains { $0.source == source(t2, 2) && $0.reason.contains(field) })
        #expect(ledger.clients.values.allSatisfy { $0.transactions.isEmpty })
        #expect(ledger.unknownClientTransactions.isEmpty)
    }

    @Test("identical repeat plus a conflicting one: the id is rejected, the repeat stays a counted-once duplicate")
    func duplicateThenConflict() throws {
        let e = export([
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .charge, service: "S", "10", file: t, line: 2),
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .charge, service: "S", "10", file: t2, line: 2),
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .charge, service: "S", "12", file: t2, line: 3),
        ], clients: [clientRecord("c1")])
        let ledger = Ledger.build(from: e)
        #expect(ledger.clients["c1"]?.transactions.isEmpty == true)
        #expect(Set(ledger.rejections.map(\.source)) == [source(t, 2), source(t2, 3)])
        #expect(ledger.duplicates.map(\.source) == [source(t2, 2)])
    }

    // MARK: currency

    @Test("a client with money in two currencies has an account per currency, each in balance order (SPEC §2.1)")
    func accountPerCurrency() throws {
        let e = export([
            tx("t3", "2024-03-01T12:00:00+03:00", client: "c1", .topup, "7", currency: "USD", line: 4),
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "10", currency: "RUB", line: 2),
            tx("t4", "2024-03-01T09:00:00+03:00", client: "c1", .charge, service: "vm", "1", currency: "USD", line: 5),
            tx("t2", "2024-03-01T11:00:00+03:00", client: "c2", .topup, "10", currency: "KZT", line: 3),
        ], clients: [clientRecord("c1"), clientRecord("c2")])
        let ledger = Ledger.build(from: e)
        #expect(ledger.currencies == ["KZT", "RUB", "USD"])
        let c1 = try #require(ledger.clients[ByteKey("c1")])
        #expect(c1.accounts.map(\.currency) == ["RUB", "USD"])
        #expect(c1.accounts[0].transactions.map(\.id) == ["t1"])
        #expect(c1.accounts[1].transactions.map(\.id) == ["t4", "t3"])
        #expect(c1.transactions.count == 3)
        #expect(c1.firstInstant == at("2024-03-01T09:00:00+03:00"))
        #expect(ledger.clients[ByteKey("c2")]?.accounts.map(\.currency) == ["KZT"])
        #expect(ledger.rejections.isEmpty)
    }

    @Test("a run with no currency stated is in RUB; a run in one other currency keeps it")
    func currencyDefaults() throws {
        #expect(Ledger.build(from: export()).currencies == [])
        let rub = export([tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "10")])
        #expect(Ledger.build(from: rub).currencies == ["RUB"])
        let usd = export([
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "10", currency: "USD"),
            tx("t2", "2024-03-01T10:00:00+03:00", client: "c2", .topup, "10", currency: "USD"),
        ])
        #expect(Ledger.build(from: usd).currencies == ["USD"])
    }

    @Test("a rejected conflicting record does not count as a second currency")
    func conflictingCurrencyIsRejectedNotMixed() throws {
        let e = export([
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "10", currency: "RUB", file: t),
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "10", currency: "USD", file: t2),
            tx("t2", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "10", currency: "RUB", file: t),
        ], clients: [clientRecord("c1")])
        let ledger = Ledger.build(from: e)
        #expect(ledger.currencies == ["RUB"])
        #expect(ledger.rejections.count == 2)
        #expect(ledger.rejections.allSatisfy { $0.currency == "RUB" || $0.currency == "USD" })
    }

    @Test("a checkpoint is in the client's one currency, or the one balance_currency names")
    func checkpointCurrency() throws {
        let rows = [
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "10", currency: "USD"),
            tx("t2", "2024-03-01T10:00:00+03:00", client: "c2", .topup, "10", currency: "RUB"),
            tx("t3", "2024-03-01T11:00:00+03:00", client: "c2", .topup, "5", currency: "USD"),
        ]
        let ledger = Ledger.build(from: export(rows, clients: [
            clientRecord("c1", balance: "100", balanceAt: "2024-02-01T00:00:00+03:00"),
            clientRecord("c2", balance: "50", balanceAt: "2024-02-01T00:00:00+03:00", balanceCurrency: "USD"),
        ]))
        let c1 = try #require(ledger.clients[ByteKey("c1")])
        #expect(c1.accounts.map(\.currency) == ["USD"])
        #expect(c1.accounts[0].checkpoint?.balance == money("100"))
        let c2 = try #require(ledger.clients[ByteKey("c2")])
        #expect(c2.accounts.map(\.currency) == ["RUB", "USD"])
        #expect(c2.accounts[0].checkpoint == nil)
        #expect(c2.accounts[1].checkpoint?.balance == money("50"))
        // A checkpoint in a currency the client has no row of is an account of its own.
        let third = Ledger.build(from: export(rows, clients: [
            clientRecord("c1", balance: "3", balanceAt: "2024-02-01T00:00:00+03:00", balanceCurrency: "KZT"), clientRecord("c2"),
        ]))
        #expect(third.currencies == ["KZT", "RUB", "USD"])
        #expect(third.clients[ByteKey("c1")]?.accounts.map(\.currency) == ["KZT", "USD"])
    }

    @Test("a checkpoint naming no currency of a client with money in two is refused with the client record; its rows are an unknown client's")
    func checkpointOfTwoCurrenciesIsRefused() throws {
        let rows = [
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "10", currency: "RUB"),
            tx("t2", "2024-03-01T11:00:00+03:00", client: "c1", .topup, "5", currency: "USD"),
        ]
        let ledger = Ledger.build(from: export(rows, clients: [
            clientRecord("c1", balance: "100", balanceAt: "2024-02-01T00:00:00+03:00"), clientRecord("c2"),
        ]))
        #expect(ledger.clients[ByteKey("c1")] == nil)
        #expect(ledger.unknownClientTransactions.map(\.id).sorted() == ["t1", "t2"])
        #expect(ledger.rejections.map(\.reason) == ["client c1 has money in RUB and USD but its balance checkpoint names no currency: add balance_currency"])
    }

    // MARK: order

    @Test("transactions are sorted by instant, then id byte-wise")
    func balanceOrder() throws {
        let e = export([
            tx("b", "2024-03-01T12:00:00+03:00", client: "c1", .charge, service: "S", "1"),
            tx("z", "2024-03-01T11:59:59.999+03:00", client: "c1", .topup, "1"),
            tx("a", "2024-03-01T09:00:00Z", client: "c1", .charge, service: "S", "1"),     // the same moment as b
            tx("B", "2024-03-01T12:00:00+0300", client: "c1", .charge, service: "S", "1"), // and again
            tx("a10", "2024-03-02T00:00:00+03:00", client: "c1", .topup, "1"),
            tx("a9", "2024-03-02T00:00:00+03:00", client: "c1", .topup, "1"),
            tx("é", "2024-03-03T00:00:00+03:00", client: "c1", .topup, "1"),                 // C3 A9
            tx("y", "2024-03-03T00:00:00+03:00", client: "c2", .topup, "1"),
            tx("zz", "2024-03-03T00:00:00+03:00", client: "c1", .topup, "1"),                // 7A 7A < C3 A9
            tx("0", "2024-03-04T00:00:00+03:00", client: "c1", .topup, "1"),
        ], clients: [clientRecord("c1"), clientRecord("c2")])
        let ledger = Ledger.build(from: e)
        #expect(ledger.clients["c1"]?.transactions.map(\.id) == ["z", "B", "a", "b", "a10", "a9", "zz", "é", "0"])
        #expect(ledger.clients["c2"]?.transactions.map(\.id) == ["y"])
        #expect(ledger.rejections.isEmpty)
    }

    @Test("Ledger.balanceOrder compares ids by UTF-8 bytes, not by Unicode collation")
    func byteWiseIDs() {
        let instant = at("2024-03-01T00:00:00+03:00")
        func make(_ id: String) -> Transaction {
            Transaction(id: id, instant: instant, clientID: "c1", kind: .topup, service: "", amount: money("1"),
                        currency: "RUB", description: "", source: source(0, 2))
        }
        #expect(Ledger.balanceOrder(make("B"), make("a")))
        #expect(!Ledger.balanceOrder(make("a"), make("B")))
        #expect(Ledger.balanceOrder(make("a10"), make("a9")))
        // Decomposed é (65 CC 81) sorts before precomposed é (C3 A9) byte-wise, though Swift calls them equal.
        #expect(Ledger.balanceOrder(make("e\u{301}"), make("\u{e9}")))
        #expect(!Ledger.balanceOrder(make("\u{e9}"), make("e\u{301}")))
        #expect(!Ledger.balanceOrder(make("a"), make("a")))
    }

    // MARK: clients

    @Test("transactions of a client no clients record names are unknown-client transactions")
    func unknownClient() throws {
        let e = export([
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "10"),
            tx("t2", "2024-03-01T11:00:00+03:00", client: "ghost", .charge, service: "S", "3"),
        ], clients: [clientRecord("c1")], events: [
            ev("ghost", "2024-02-01T00:00:00+03:00", .invited),
        ])
        let ledger = Ledger.build(from: e)
        #expect(ledger.clients.keys.sorted() == ["c1"])
        #expect(ledger.unknownClientTransactions.map(\.id) == ["t2"])
        #expect(ledger.unknownClientEvents.map(\.clientID) == ["ghost"])
        #expect(ledger.clients["c1"]?.transactions.map(\.id) == ["t1"])
    }

    @Test("no clients records: every client of the transactions is the default partner's, active for all time")
    func noClientRecords() throws {
        let e = export([
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "10"),
            tx("t2", "1999-03-01T10:00:00+03:00", client: "c2", .charge, service: "S", "3"),
            tx("t3", "2024-03-02T10:00:00+03:00", client: "c1", .charge, service: "S", "1"),
        ])
        let ledger = Ledger.build(from: e)
        #expect(ledger.clients.keys.sorted() == ["c1", "c2"])
        #expect(ledger.unknownClientTransactions.isEmpty)
        for id in ["c1", "c2"] {
            let client = try #require(ledger.clients[ByteKey(id)])
            #expect(client.record.partnerID == "default")
            #expect(client.timeline.alwaysActive)
            #expect(client.timeline.isAttached(at: at("1970-01-01T00:00:00Z")))
            #expect(client.timeline.isAttached(at: at("2999-01-01T00:00:00Z")))
            #expect(client.timeline.state(at: at("2024-03-01T00:00:00Z"))?.state == .active)
        }
        #expect(ledger.clients["c1"]?.transactions.map(\.id) == ["t1", "t3"])
    }

    @Test("clients records but no events: every client is attached for all time")
    func clientsWithoutEvents() throws {
        let e = export([tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "10")],
                       clients: [clientRecord("c1", partner: "p1"), clientRecord("c2", partner: "p2")])
        let ledger = Ledger.build(from: e)
        #expect(ledger.clients.keys.sorted() == ["c1", "c2"])
        for id in ["c1", "c2"] {
            let client = try #require(ledger.clients[ByteKey(id)])
            #expect(client.timeline.alwaysActive)
            #expect(client.timeline.isAttached(at: at("2000-01-01T00:00:00Z")))
            #expect(client.events.isEmpty)
        }
        #expect(ledger.clients["c2"]?.record.partnerID == "p2")
    }

    @Test("a run with events: a client without events is never attached")
    func clientWithoutEventsInRunWithEvents() throws {
        let e = export([
            tx("t1", "2024-03-05T10:00:00+03:00", client: "c1", .topup, "10"),
            tx("t2", "2024-03-05T10:00:00+03:00", client: "c2", .topup, "10"),
        ], clients: [clientRecord("c1"), clientRecord("c2")], events: [
            ev("c1", "2024-03-01T00:00:00+03:00", .invited),
            ev("c1", "2024-03-02T00:00:00+03:00", .confirmed),
        ])
        let ledger = Ledger.build(from: e)
        let c1 = try #require(ledger.clients["c1"])
        let c2 = try #require(ledger.clients["c2"])
        #expect(c1.timeline.isAttached(at: at("2024-03-05T10:00:00+03:00")))
        #expect(!c2.timeline.alwaysActive)
        #expect(c2.timeline.attachmentWindows.isEmpty)
        #expect(c2.timeline.state(at: at("2024-04-01T00:00:00+03:00")) == nil)
        #expect(!c2.timeline.isAttached(at: at("2024-03-05T10:00:00+03:00")))
        #expect(c2.transactions.map(\.id) == ["t2"]) // still its own money, just not the partner's
    }

    @Test("a run whose only event records were rejected is still a run with events (no one is attached by default)")
    func rejectedEventsStillCount() throws {
        let e = export([tx("t1", "2024-03-05T10:00:00+03:00", client: "c1", .charge, service: "S", "10")],
                       clients: [clientRecord("c1")],
                       rejections: [Rejection(source: source(ModelTestFile.events, 2), kind: .event,
                                              reason: "timestamp has an impossible date", recordID: "c1")])
        let ledger = Ledger.build(from: e)
        let c1 = try #require(ledger.clients["c1"])
        #expect(!c1.timeline.alwaysActive)
        #expect(!c1.timeline.isAttached(at: at("2024-03-05T10:00:00+03:00")))
    }

    @Test("a run whose only client records were rejected does not hand every client to the default partner")
    func rejectedClientsStillCount() throws {
        let e = export([tx("t1", "2024-03-05T10:00:00+03:00", client: "c1", .charge, service: "S", "10")],
                       rejections: [Rejection(source: source(ModelTestFile.clients, 2), kind: .client,
                                              reason: "email is required", recordID: "c1")])
        let ledger = Ledger.build(from: e)
        #expect(ledger.clients.isEmpty)
        #expect(ledger.unknownClientTransactions.map(\.id) == ["t1"])
    }

    @Test("an identical duplicate client record counts once and is listed in duplicates")
    func duplicateClient() throws {
        let e = export(clients: [clientRecord("c1", line: 2), clientRecord("c2", line: 3), clientRecord("c1", line: 4)])
        let ledger = Ledger.build(from: e)
        #expect(ledger.clients.keys.sorted() == ["c1", "c2"])
        #expect(ledger.clients["c1"]?.record.source == source(ModelTestFile.clients, 2))
        #expect(ledger.duplicates == [Duplicate(kind: .client, source: source(ModelTestFile.clients, 4),
                                                original: source(ModelTestFile.clients, 2), amount: nil)])
        #expect(ledger.rejections.isEmpty)
    }

    @Test("conflicting client records: both rejected, each naming the other, and the client is unknown")
    func conflictingClient() throws {
        let e = export([tx("t1", "2024-03-05T10:00:00+03:00", client: "c1", .topup, "10")], clients: [
            clientRecord("c1", partner: "p1", line: 2),
            clientRecord("c2", line: 3),
            clientRecord("c1", partner: "p2", line: 4),
        ])
        let ledger = Ledger.build(from: e)
        #expect(ledger.clients.keys.sorted() == ["c2"])
        #expect(ledger.unknownClientTransactions.map(\.id) == ["t1"])
        #expect(ledger.rejections.count == 2)
        let first = try #require(ledger.rejections.first { $0.source == source(ModelTestFile.clients, 2) })
        let second = try #require(ledger.rejections.first { $0.source == source(ModelTestFile.clients, 4) })
        #expect(first.kind == .client && second.kind == .client)
        #expect(first.recordID == "c1" && second.recordID == "c1")
        #expect(first.reason.contains("clients.csv:4"))
        #expect(second.reason.contains("clients.csv:2"))
    }

    // MARK: events

    @Test("an identical duplicate event counts once; an illegal one is rejected and left out")
    func eventDuplicatesAndIllegal() throws {
        let e = export(clients: [clientRecord("c1")], events: [
            ev("c1", "2024-03-01T00:00:00+03:00", .invited, line: 2),
            ev("c1", "2024-03-02T00:00:00+03:00", .confirmed, line: 3),
            ev("c1", "2024-03-02T00:00:00+03:00", .confirmed, line: 4),   // identical repeat
            ev("c1", "2024-03-03T00:00:00+03:00", .unblocked, line: 5),   // unblocked while active
        ])
        let ledger = Ledger.build(from: e)
        let c1 = try #require(ledger.clients["c1"])
        #expect(c1.events.map(\.source.line) == [2, 3])
        #expect(ledger.duplicates == [Duplicate(kind: .event, source: source(ModelTestFile.events, 4),
                                                original: source(ModelTestFile.events, 3), amount: nil)])
        #expect(ledger.rejections.count == 1)
        #expect(ledger.rejections.first?.source == source(ModelTestFile.events, 5))
        #expect(ledger.rejections.first?.kind == .event)
        #expect(ledger.rejections.first?.reason.contains("unblocked while active") == true)
        #expect(c1.timeline.attachmentWindows == [Interval(start: at("2024-03-02T00:00:00+03:00"), end: .distantFuture)])
    }

    @Test("events are replayed in time order whatever the file order; same-instant events in a legal order")
    func eventOrder() throws {
        let e = export(clients: [clientRecord("c1")], events: [
            ev("c1", "2024-03-10T00:00:00+03:00", .removed),
            ev("c1", "2024-03-01T00:00:00+03:00", .confirmed),
            ev("c1", "2024-03-01T00:00:00+03:00", .invited),
        ])
        let ledger = Ledger.build(from: e)
        let c1 = try #require(ledger.clients["c1"])
        #expect(ledger.rejections.isEmpty)
        #expect(c1.events.map(\.kind) == [.invited, .confirmed, .removed])
        #expect(c1.timeline.attachmentWindows == [Interval(start: at("2024-03-01T00:00:00+03:00"), end: at("2024-03-10T00:00:00+03:00"))])
    }

    @Test("records that share a source line (one-line XML) are told apart: a legal event next to an illegal one is kept")
    func eventsOnOneLine() throws {
        let line = source(ModelTestFile.events, 1)
        let e = export(clients: [clientRecord("c1")], events: [
            ClientEvent(clientID: "c1", instant: at("2024-03-01T00:00:00+03:00"), kind: .invited, source: line),
            ClientEvent(clientID: "c1", instant: at("2024-03-02T00:00:00+03:00"), kind: .blocked, source: line),
            ClientEvent(clientID: "c1", instant: at("2024-03-03T00:00:00+03:00"), kind: .confirmed, source: line),
        ])
        let ledger = Ledger.build(from: e)
        let c1 = try #require(ledger.clients["c1"])
        #expect(c1.events.map(\.kind) == [.invited, .confirmed])
        #expect(ledger.rejections.count == 1)
    }
}
