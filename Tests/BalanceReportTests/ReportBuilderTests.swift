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

@Suite("Report: partner reports")
struct ReportBuilderTests: ModelBuilders {
    /// March 2024 in Moscow time.
    var march: Interval { Interval(start: at("2024-02-29T21:00:00Z"), end: at("2024-03-31T21:00:00Z")) }

    // MARK: period and day boundaries

    @Test("a client with more services than the short list holds: every service and day summed and sorted")
    func manyServices() throws {
        // 40 services (the per-client table switches from a list to a dictionary after 16), in
        // reverse byte order, charged on two days with a refund each.
        let names = (0..<40).map { "svc-\(String(format: "%02d", 39 - $0))" }
        var transactions: [Transaction] = []
        for (index, name) in names.enumerated() {
            transactions.append(tx("a\(index)", "2024-03-05 10:00:00", client: "c1", .charge, service: name, "\(index + 1).50"))
            transactions.append(tx("b\(index)", "2024-03-06 10:00:00", client: "c1", .charge, service: name, "1.000001"))
            transactions.append(tx("r\(index)", "2024-03-06 11:00:00", client: "c1", .refund, service: name, "0.25"))
        }
        let c1 = try clientReport(try runReport(export(transactions, clients: [clientRecord("c1")])), "c1")
        let sorted = names.sorted(by: byteOrder)
        #expect(c1.services.map(\.service) == sorted)
        for spend in c1.services {
            let index = names.firstIndex(of: spend.service)!
            #expect(spend.charged == money("\(index + 1).50") + money("1.000001") && spend.refunded == money("0.25"))
        }
        #expect(c1.daily.map(\.service) == sorted + sorted)
        #expect(c1.daily.prefix(40).allSatisfy { $0.date == CivilDate(year: 2024, month: 3, day: 5) })
        #expect(c1.daily.dropFirst(40).allSatisfy { $0.date == CivilDate(year: 2024, month: 3, day: 6) && $0.net == money("0.750001") })
    }

    @Test("the period runs from Moscow midnight to Moscow midnight")
    func periodBoundaries() throws {
        let report = try runReport(export([
            tx("a", "2024-02-29T20:59:59Z", client: "c1", .charge, service: "S", "1.00"),
            tx("b", "2024-02-29T21:00:00Z", client: "c1", .charge, service: "S", "2.00"),
            tx("c", "2024-03-31T20:59:59.750Z", client: "c1", .charge, service: "S", "4.00"),
            tx("d", "2024-03-31T21:00:00Z", client: "c1", .charge, service: "S", "8.00"),
        ], clients: [clientRecord("c1")]))
        let c1 = try clientReport(report, "c1")
        #expect(c1.detail.map(\.transaction.id) == ["b", "c"])
        #expect(c1.detail.map(\.balanceAfter) == [money("-3.00"), money("-7.00")])
        // Opening counts "a" (before the period); closing does not count "d" (after it).
        #expect(c1.movement == movement("-1.00", charges: "6.00", "-7.00"))
        #expect(c1.services == [spend("S", charged: "6.00")])
        #expect(c1.daily == [daily("2024-03-01", "S", "2.00"), daily("2024-03-31", "S", "4.00")])
        #expect(MoscowTime.isoText(c1.detail[1].transaction.instant) == "2024-03-31T23:59:59.750+03:00")
        #expect(c1.visibleIntervals == [march])
        #expect(c1.state == .active)
        #expect(c1.stateSince == nil)
        #expect(report.summary.controlFailures.isEmpty)
    }

    @Test("daily buckets split at Moscow midnight (21:00:00Z)")
    func dailyBuckets() throws {
        let report = try runReport(export([
            tx("x", "2024-03-10T20:59:59Z", client: "c1", .charge, service: "S", "1.50"),
            tx("y", "2024-03-10T21:00:00Z", client: "c1", .charge, service: "S", "2.25"),
            tx("z", "2024-03-11T20:59:59Z", client: "c1", .charge, service: "S", "0.25"),
            tx("w", "2024-03-10T21:00:00Z", client: "c1", .refund, service: "S", "0.75"),
        ], clients: [clientRecord("c1")]))
        let c1 = try clientReport(report, "c1")
        // 03-11: 2.25 + 0.25 − 0.75 = 1.75
        #expect(c1.daily == [daily("2024-03-10", "S", "1.50"), daily("2024-03-11", "S", "1.75")])
    }

    @Test("one moment written in different offsets is one moment: same bucket, tie broken by id")
    func offsetsAreOneMoment() throws {
        let report = try runReport(export([
            tx("a-out", "2024-02-29T22:59:59+02:00", client: "c1", .charge, service: "K", "7"),   // 20:59:59Z: February
            tx("a-in", "2024-03-01T01:00:00+04:00", client: "c1", .charge, service: "K", "5"),    // 21:00:00Z: March
            tx("t2", "2024-03-05T12:00:00+03:00", client: "c1", .charge, service: "S", "10"),
            tx("t1", "2024-03-05T09:00:00Z", client: "c1", .charge, service: "S", "20"),
            tx("t3", "2024-03-05T04:00:00-05:00", client: "c1", .topup, "100"),
            tx("t0", "2024-03-05 11:59:59", client: "c1", .topup, "1"),
        ], clients: [clientRecord("c1")]))
        let c1 = try clientReport(report, "c1")
        #expect(c1.detail.map(\.transaction.id) == ["a-in", "t0", "t1", "t2", "t3"])
        // −7 → −12 → −11 → −31 → −41 → 59
        #expect(c1.detail.map(\.balanceAfter) == ["-12", "-11", "-31", "-41", "59"].map(money))
        #expect(c1.movement == movement("-7", topups: "101", charges: "35", "59"))
        #expect(c1.daily == [daily("2024-03-01", "K", "5"), daily("2024-03-05", "S", "30")])
    }

    // MARK: states and attachment

    @Test("a blocked client's charges are still reported")
    func blockedClient() throws {
        let report = try runReport(export([
            tx("t1", "2024-02-15T10:00:00+03:00", client: "c1", .topup, "100"),
            tx("t2", "2024-03-05T10:00:00+03:00", client: "c1", .charge, service: "S", "10"),
            tx("t3", "2024-03-15T10:00:00+03:00", client: "c1", .charge, service: "S", "15"),
            tx("t4", "2024-04-02T10:00:00+03:00", client: "c1", .charge, service: "S", "1"),
        ], clients: [clientRecord("c1")], events: [
            ev("c1", "2024-02-01T10:00:00+03:00", .invited),
            ev("c1", "2024-02-02T10:00:00+03:00", .confirmed),
            ev("c1", "2024-03-10T10:00:00+03:00", .blocked),
        ]))
        let c1 = try clientReport(report, "c1")
        #expect(c1.state == .blocked)
        #expect(c1.stateSince == at("2024-03-10T10:00:00+03:00"))
        #expect(c1.detail.map(\.transaction.id) == ["t2", "t3"])
        #expect(c1.movement == movement("100", charges: "25", "75"))
        #expect(c1.services == [spend("S", charged: "25")])
    }

    @Test("a client removed mid-period: later charges are not the partner's, the client is listed as removed")
    func removedMidPeriod() throws {
        let removal = at("2024-03-15T12:00:00+03:00")
        let report = try runReport(export([
            tx("t1", "2024-02-10T10:00:00+03:00", client: "c1", .topup, "100"),
            tx("t2", "2024-03-05T12:00:00+03:00", client: "c1", .charge, service: "S", "10"),
            tx("t3", "2024-03-15T09:00:00Z", client: "c1", .charge, service: "S", "20"),   // exactly at the removal
            tx("t4", "2024-03-20T12:00:00+03:00", client: "c1", .charge, service: "K", "40"),
            tx("t5", "2024-03-25T12:00:00+03:00", client: "c1", .topup, "50"),
        ], clients: [clientRecord("c1")], events: [
            ev("c1", "2024-02-01T10:00:00+03:00", .invited),
            ev("c1", "2024-02-02T10:00:00+03:00", .confirmed),
            ev("c1", "2024-03-15T12:00:00+03:00", .removed),
        ]))
        let p1 = try partner(report)
        let c1 = try clientReport(report, "c1")
        #expect(c1.state == .removed)
        #expect(c1.stateSince == removal)
        #expect(c1.visibleIntervals == [Interval(start: march.start, end: removal)])
        #expect(c1.detail.map(\.transaction.id) == ["t2"])
        #expect(c1.detail.map(\.balanceAfter) == [money("90")])
        #expect(c1.services == [spend("S", charged: "10")])
        #expect(c1.daily == [daily("2024-03-05", "S", "10")])
        // Closing is the balance at the removal moment: t3 at that very moment is not before it.
        #expect(c1.movement == movement("100", charges: "10", "90"))
        #expect(p1.totals == movement("100", charges: "10", "90"))
        #expect(p1.services == [spend("S", charged: "10")])
        #expect(!p1.clients.flatMap(\.detail).contains { $0.transaction.instant >= removal })
        // The summary agrees: t3 (at the removal), t4 and t5 are outside the attachment, 20 + 40 + 50.
        var outside = Tally()
        outside.count = 3
        outside.amount = money("110")
        #expect(report.summary.outcomes[.transaction]?[.outsideAttachment] == outside)
        #expect(report.summary.controlFailures.isEmpty)
    }

    @Test("an invited, never confirmed client is listed with its state and no money")
    func invitedNeverConfirmed() throws {
        let report = try runReport(export([
            tx("i1", "2024-03-02T10:00:00+03:00", client: "c1", .topup, "100"),
            tx("i2", "2024-03-10T10:00:00+03:00", client: "c1", .charge, service: "S", "30"),
            tx("i3", "2024-03-12T10:00:00+03:00", client: "c3", .charge, service: "S", "9"),
            tx("a1", "2024-03-03T10:00:00+03:00", client: "c2", .charge, service: "S", "5"),
        ], clients: [clientRecord("c1"), clientRecord("c2"), clientRecord("c3")], events: [
            ev("c1", "2024-02-20T10:00:00+03:00", .invited),
            ev("c2", "2024-02-01T10:00:00+03:00", .invited),
            ev("c2", "2024-02-01T11:00:00+03:00", .confirmed),
            ev("c3", "2024-03-05T10:00:00+03:00", .invited),
        ]))
        let p1 = try partner(report)
        #expect(p1.clients.map(\.client.id) == ["c1", "c2", "c3"])
        for (id, since) in [("c1", "2024-02-20T10:00:00+03:00"), ("c3", "2024-03-05T10:00:00+03:00")] {
            let client = try clientReport(report, id)
            #expect(client.state == .invited)
            #expect(client.stateSince == at(since))
            #expect(client.movement == nil)
            #expect(client.visibleIntervals.isEmpty)
            #expect(client.detail.isEmpty)
            #expect(client.services.isEmpty)
            #expect(client.daily.isEmpty)
        }
        #expect(p1.totals == movement("0", charges: "5", "-5"))
        #expect(p1.services == [spend("S", charged: "5")])
    }

    @Test("a client confirmed mid-period: earlier transactions hidden but counted in the opening balance")
    func confirmedMidPeriod() throws {
        let confirmation = at("2024-03-10T10:00:00+03:00")
        let report = try runReport(export([
            tx("a", "2024-03-01T12:00:00+03:00", client: "c1", .topup, "100"),
            tx("b", "2024-03-05T12:00:00+03:00", client: "c1", .charge, service: "S", "30"),
            tx("c", "2024-03-10T07:00:00Z", client: "c1", .charge, service: "S", "5"),   // exactly at the confirmation
            tx("d", "2024-03-20T12:00:00+03:00", client: "c1", .charge, service: "S", "7"),
        ], clients: [clientRecord("c1")], events: [
            ev("c1", "2024-02-20T10:00:00+03:00", .invited),
            ev("c1", "2024-03-10T10:00:00+03:00", .confirmed),
        ]))
        let c1 = try clientReport(report, "c1")
        #expect(c1.state == .active)
        #expect(c1.stateSince == confirmation)
        #expect(c1.visibleIntervals == [Interval(start: confirmation, end: march.end)])
        #expect(c1.detail.map(\.transaction.id) == ["c", "d"])
        #expect(c1.detail.map(\.balanceAfter) == [money("65"), money("58")])
        #expect(c1.movement == movement("70", charges: "12", "58"))
        #expect(c1.services == [spend("S", charged: "12")])
        #expect(c1.daily == [daily("2024-03-10", "S", "5"), daily("2024-03-20", "S", "7")])
        #expect(report.summary.controlFailures.isEmpty)
    }

    @Test("which clients are listed: removed before the period → no; re-invited in it → yes; first event after it → no")
    func listedClients() throws {
        let report = try runReport(export([
            tx("x1", "2024-03-05T10:00:00+03:00", client: "gone", .charge, service: "S", "10"),
            tx("x2", "2024-03-05T10:00:00+03:00", client: "c2", .charge, service: "S", "1"),
            tx("x3", "2024-03-05T10:00:00+03:00", client: "back", .charge, service: "S", "2"),
            tx("x4", "2024-03-05T10:00:00+03:00", client: "later", .charge, service: "S", "3"),
        ], clients: [clientRecord("gone"), clientRecord("c2"), clientRecord("back"), clientRecord("later")], events: [
            ev("gone", "2024-01-01T10:00:00+03:00", .invited),
            ev("gone", "2024-01-02T10:00:00+03:00", .confirmed),
            ev("gone", "2024-02-15T10:00:00+03:00", .removed),
            ev("c2", "2024-01-01T10:00:00+03:00", .invited),
            ev("c2", "2024-01-02T10:00:00+03:00", .confirmed),
            ev("back", "2024-01-01T10:00:00+03:00", .invited),
            ev("back", "2024-01-02T10:00:00+03:00", .confirmed),
            ev("back", "2024-02-15T10:00:00+03:00", .removed),
            ev("back", "2024-03-20T10:00:00+03:00", .invited),
            ev("later", "2024-04-05T10:00:00+03:00", .invited),
            ev("later", "2024-04-06T10:00:00+03:00", .confirmed),
        ]))
        let p1 = try partner(report)
        #expect(p1.clients.map(\.client.id) == ["back", "c2"])
        let back = try clientReport(report, "back")
        #expect(back.state == .invited)
        #expect(back.movement == nil)
        #expect(p1.totals == movement("0", charges: "1", "-1"))
    }

    @Test("a client removed exactly at the period start is not listed; one removed a moment later is")
    func removedAtPeriodStart() throws {
        let report = try runReport(export(clients: [clientRecord("c1"), clientRecord("c2")], events: [
            ev("c1", "2024-01-01T10:00:00+03:00", .invited),
            ev("c1", "2024-01-02T10:00:00+03:00", .confirmed),
            ev("c1", "2024-03-01T00:00:00+03:00", .removed),
            ev("c2", "2024-01-01T10:00:00+03:00", .invited),
            ev("c2", "2024-01-02T10:00:00+03:00", .confirmed),
            ev("c2", "2024-03-01T00:00:01+03:00", .removed),
        ]))
        let p1 = try partner(report)
        #expect(p1.clients.map(\.client.id) == ["c2"])
        #expect(p1.clients.first?.state == .removed)
        #expect(p1.clients.first?.movement == BalanceMovement())
    }

    @Test("two attachment windows in one period: the gap's transactions are hidden, its net movement is one gap row")
    func twoWindows() throws {
        let report = try runReport(export([
            tx("t1", "2024-02-10T10:00:00+03:00", client: "c1", .topup, "100"),
            tx("t2", "2024-03-05T10:00:00+03:00", client: "c1", .charge, service: "S", "10"),
            tx("t3", "2024-03-12T10:00:00+03:00", client: "c1", .charge, service: "S", "20"),
            tx("t4", "2024-03-25T10:00:00+03:00", client: "c1", .charge, service: "S", "30"),
        ], clients: [clientRecord("c1")], events: [
            ev("c1", "2024-02-01T10:00:00+03:00", .invited),
            ev("c1", "2024-02-02T10:00:00+03:00", .confirmed),
            ev("c1", "2024-03-10T00:00:00+03:00", .removed),
            ev("c1", "2024-03-15T00:00:00+03:00", .invited),
            ev("c1", "2024-03-20T00:00:00+03:00", .confirmed),
        ]))
        let c1 = try clientReport(report, "c1")
        #expect(c1.visibleIntervals == [
            Interval(start: march.start, end: at("2024-03-10T00:00:00+03:00")),
            Interval(start: at("2024-03-20T00:00:00+03:00"), end: march.end),
        ])
        #expect(c1.detail.map(\.transaction.id) == ["t2", "t4"])
        #expect(c1.detail.map(\.balanceAfter) == [money("90"), money("40")])
        // The hidden charge t3 moved the balance by −20 between the windows: one figure, so the page adds up.
        #expect(c1.movement == movement("100", charges: "40", unattached: "-20", "40"))
        #expect(c1.movement!.addsUp)
        #expect(c1.gaps == [UnattachedGap(from: at("2024-03-10T00:00:00+03:00"), to: at("2024-03-20T00:00:00+03:00"),
                                          before: money("90"), after: money("70"), position: 1)])
        #expect(c1.state == .active)
        #expect(c1.stateSince == at("2024-03-20T00:00:00+03:00"))
        #expect(report.summary.controlFailures.isEmpty)
        #expect(try partner(report).totals.unattachedChange == money("-20"))
    }

    @Test("three windows: one gap row per gap, in time order; the rows chain from opening to closing")
    func threeWindows() throws {
        let report = try runReport(export([
            tx("t1", "2024-03-02T10:00:00+03:00", client: "c1", .topup, "100"),
            tx("h1", "2024-03-06T10:00:00+03:00", client: "c1", .topup, "7"),            // hidden
            tx("t2", "2024-03-09T10:00:00+03:00", client: "c1", .charge, service: "S", "10"),
            tx("h2", "2024-03-16T10:00:00+03:00", client: "c1", .charge, service: "S", "3"), // hidden
            tx("h3", "2024-03-17T10:00:00+03:00", client: "c1", .charge, service: "S", "1"), // hidden
        ], clients: [clientRecord("c1")], events: [
            ev("c1", "2024-02-01T10:00:00+03:00", .invited), ev("c1", "2024-02-02T10:00:00+03:00", .confirmed),
            ev("c1", "2024-03-05T00:00:00+03:00", .removed), ev("c1", "2024-03-07T00:00:00+03:00", .invited),
            ev("c1", "2024-03-08T00:00:00+03:00", .confirmed), ev("c1", "2024-03-15T00:00:00+03:00", .removed),
            ev("c1", "2024-03-20T00:00:00+03:00", .invited), ev("c1", "2024-03-21T00:00:00+03:00", .confirmed),
        ]))
        let c1 = try clientReport(report, "c1")
        #expect(c1.gaps.map(\.change) == [money("7"), money("-4")])
        #expect(c1.gaps.map(\.position) == [1, 2])
        #expect(c1.movement == movement("0", topups: "100", charges: "10", unattached: "3", "93"))
        #expect(report.summary.controlFailures.isEmpty)
        // The client CSV shows a row per gap where it falls, so its balance column chains.
        let set = try RepositoryTemplates.set(.en)
        let csv = String(decoding: try ReportRenderer(templates: set, dialect: .standard)
            .clientPage(set.clientCSV, [c1], try partner(report), report), as: UTF8.self)
        #expect(csv == """
            id,timestamp,type,service,amount,balance_after
            t1,2024-03-02T10:00:00+03:00,topup,,100.00,100.00
            ,2024-03-08T00:00:00+03:00,unattached_change,,7.00,107.00
            t2,2024-03-09T10:00:00+03:00,charge,S,10.00,97.00
            ,2024-03-21T00:00:00+03:00,unattached_change,,-4.00,93.00

            """)
    }

    @Test("a removal and a new confirmation at one instant leave no gap")
    func adjacentWindows() throws {
        let report = try runReport(export([
            tx("t1", "2024-03-02T10:00:00+03:00", client: "c1", .topup, "100"),
        ], clients: [clientRecord("c1")], events: [
            ev("c1", "2024-02-01T10:00:00+03:00", .invited), ev("c1", "2024-02-02T10:00:00+03:00", .confirmed),
            ev("c1", "2024-03-05T00:00:00+03:00", .removed), ev("c1", "2024-03-05T00:00:00+03:00", .invited),
            ev("c1", "2024-03-05T00:00:00+03:00", .confirmed),
        ]))
        let c1 = try clientReport(report, "c1")
        #expect(c1.gaps.isEmpty && c1.movement!.unattachedChange == .zero)
        #expect(report.summary.controlFailures.isEmpty)
    }

    @Test("a listed client without transactions in the period shows its balance unchanged")
    func noTransactionsInPeriod() throws {
        let report = try runReport(export([
            tx("t1", "2024-01-10T10:00:00+03:00", client: "c1", .topup, "50"),
            tx("t2", "2024-04-10T10:00:00+03:00", client: "c1", .charge, service: "S", "5"),
        ], clients: [clientRecord("c1"), clientRecord("c2")]))
        let p1 = try partner(report)
        #expect(p1.clients.map(\.client.id) == ["c1", "c2"])
        #expect(p1.clients[0].movement == movement("50", "50"))
        #expect(p1.clients[1].movement == movement("0", "0"))
        #expect(p1.clients.allSatisfy { $0.detail.isEmpty && $0.services.isEmpty && $0.daily.isEmpty })
    }

    // MARK: balances

    @Test("balance(T) = B + net(before T) − net(before Tb); a transaction exactly at Tb comes after the checkpoint")
    func checkpoint() throws {
        let report = try runReport(export([
            tx("p", "2024-02-20T10:00:00+03:00", client: "c1", .topup, "200"),
            tx("q", "2024-03-05T10:00:00+03:00", client: "c1", .topup, "50"),
            tx("r", "2024-03-10T09:00:00Z", client: "c1", .charge, service: "S", "20"),       // exactly at Tb
            tx("s", "2024-03-12T10:00:00+03:00", client: "c1", .charge, service: "S", "30"),
            tx("u", "2024-04-05T10:00:00+03:00", client: "c1", .topup, "5"),
            // c2: the checkpoint lies after the period.
            tx("v", "2024-03-05T10:00:00+03:00", client: "c2", .topup, "100"),
            tx("w", "2024-03-20T10:00:00+03:00", client: "c2", .charge, service: "S", "40"),
            tx("x", "2024-04-05T10:00:00+03:00", client: "c2", .charge, service: "S", "60"),
            // c3: the checkpoint lies before the period.
            tx("y0", "2023-12-31T10:00:00+03:00", client: "c3", .topup, "5"),
            tx("y1", "2024-02-01T10:00:00+03:00", client: "c3", .charge, service: "S", "3"),
            tx("y2", "2024-03-03T10:00:00+03:00", client: "c3", .charge, service: "S", "2"),
        ], clients: [
            clientRecord("c1", balance: "1000.00", balanceAt: "2024-03-10T12:00:00+03:00"),
            clientRecord("c2", balance: "500", balanceAt: "2024-04-10T00:00:00+03:00"),
            clientRecord("c3", balance: "10", balanceAt: "2024-01-01T00:00:00+03:00"),
        ]))
        // c1: 1000 − (200 + 50) = 750 before anything; opening 750 + 200 = 950.
        let c1 = try clientReport(report, "c1")
        #expect(c1.detail.map(\.transaction.id) == ["q", "r", "s"])
        #expect(c1.detail.map(\.balanceAfter) == ["1000", "980", "950"].map(money))
        #expect(c1.movement == movement("950", topups: "50", charges: "50", "950"))
        // c2: 500 − (100 − 40 − 60) = 500 before anything; opening 500, then 600, 560.
        let c2 = try clientReport(report, "c2")
        #expect(c2.detail.map(\.balanceAfter) == ["600", "560"].map(money))
        #expect(c2.movement == movement("500", topups: "100", charges: "40", "560"))
        // c3: 10 − 5 = 5 before anything; opening 5 + 5 − 3 = 7, then 5.
        let c3 = try clientReport(report, "c3")
        #expect(c3.detail.map(\.balanceAfter) == [money("5")])
        #expect(c3.movement == movement("7", charges: "2", "5"))
        #expect(report.summary.controlFailures.isEmpty)
    }

    @Test("running balance after each line, ties at one timestamp in byte order of id")
    func runningBalanceTies() throws {
        let report = try runReport(export([
            tx("t0", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "100"),
            tx("t-b", "2024-03-02T10:00:00+03:00", client: "c1", .charge, service: "S", "10"),
            tx("T-c", "2024-03-02T10:00:00+03:00", client: "c1", .charge, service: "K", "1"),
            tx("t-a", "2024-03-02T07:00:00Z", client: "c1", .charge, service: "S", "5"),
        ], clients: [clientRecord("c1")]))
        let c1 = try clientReport(report, "c1")
        #expect(c1.detail.map(\.transaction.id) == ["t0", "T-c", "t-a", "t-b"])
        #expect(c1.detail.map(\.balanceAfter) == ["100", "99", "94", "84"].map(money))
    }

    @Test("refunds lower a service's spend and raise the balance")
    func refunds() throws {
        let report = try runReport(export([
            tx("1", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "200"),
            tx("2", "2024-03-05T10:00:00+03:00", client: "c1", .charge, service: "S", "100"),
            tx("3", "2024-03-05T11:00:00+03:00", client: "c1", .refund, service: "S", "30"),
            tx("4", "2024-03-06T10:00:00+03:00", client: "c1", .charge, service: "K", "10"),
            tx("5", "2024-03-07T10:00:00+03:00", client: "c1", .refund, service: "S", "5"),
        ], clients: [clientRecord("c1")]))
        let c1 = try clientReport(report, "c1")
        #expect(c1.detail.map(\.balanceAfter) == ["200", "100", "130", "120", "125"].map(money))
        #expect(c1.services == [spend("K", charged: "10"), spend("S", charged: "100", refunded: "35")])
        #expect(c1.services.map(\.net) == [money("10"), money("65")])
        #expect(c1.daily == [daily("2024-03-05", "S", "70"), daily("2024-03-06", "K", "10"), daily("2024-03-07", "S", "-5")])
        #expect(c1.movement == movement("0", topups: "200", charges: "110", refunds: "35", "125"))
    }

    @Test("one attachment window: opening + top-ups + refunds − charges = closing (random histories)",
          arguments: [UInt64(7), 99, 2024, 31_337, 0xC0FFEE])
    func movementIdentity(seed: UInt64) throws {
        var random = ModelSplitMix64(seed: seed)
        let base = at("2024-02-01T00:00:00+03:00").seconds
        let span: Int64 = 75 * 86_400   // February 1 to mid-April
        func instantText(_ offset: Int64) -> String { MoscowTime.isoText(Instant(seconds: base + offset)) }
        let confirmed = Int64.random(in: 0..<(45 * 86_400), using: &random)
        let removed = Bool.random(using: &random) ? Int64.random(in: (confirmed + 1)..<span, using: &random) : nil
        var events = [ev("c1", instantText(0), .invited), ev("c1", instantText(confirmed), .confirmed)]
        if let removed { events.append(ev("c1", instantText(removed), .removed)) }
        var transactions: [Transaction] = []
        for index in 0..<Int.random(in: 0...120, using: &random) {
            // Coarse times so ties at one timestamp happen.
            let offset = Int64.random(in: 0..<(span / 3600), using: &random) * 3600
            let kind = [TransactionKind.topup, .charge, .charge, .refund].randomElement(using: &random)!
            let amount = "\(Int.random(in: 0...500, using: &random)).\(Int.random(in: 100_000...999_999, using: &random))"
            transactions.append(tx("t\(index)", instantText(offset), client: "c1", kind,
                                   service: kind == .topup ? "" : ["S", "K"].randomElement(using: &random)!, amount))
        }
        let e = export(transactions.shuffled(using: &random), clients: [
            clientRecord("c1", balance: "17.000001", balanceAt: instantText(Int64.random(in: 0..<span, using: &random))),
        ], events: events)
        let report = try runReport(e)
        #expect(report.summary.controlFailures.isEmpty)
        guard let c1 = report.partners.first?.clients.first, let m = c1.movement else { return }
        #expect(c1.visibleIntervals.count == 1)
        #expect(m.opening + m.topups + m.refunds - m.charges == m.closing)
        // The same identity line by line: each balance is the previous one plus the line's effect.
        var balance = m.opening
        for line in c1.detail {
            balance += line.transaction.net
            #expect(line.balanceAfter == balance)
        }
        #expect(balance == m.closing)
        // Spend and totals agree with the lines.
        let shown = c1.detail.map(\.transaction)
        #expect(m.charges == shown.filter { $0.kind == .charge }.sum(\.amount))
        #expect(c1.services.sum(\.net) == m.charges - m.refunds)
        #expect(c1.daily.sum(\.net) == m.charges - m.refunds)
    }

    // MARK: totals, order and partners

    @Test("partner totals are the sums of the client movements; partner spend merges the clients'")
    func partnerTotals() throws {
        let report = try runReport(export([
            tx("a1", "2024-02-01T10:00:00+03:00", client: "c1", .topup, "100"),
            tx("a2", "2024-03-02T10:00:00+03:00", client: "c1", .charge, service: "S", "10"),
            tx("a3", "2024-03-03T10:00:00+03:00", client: "c1", .refund, service: "S", "2"),
            tx("b1", "2024-03-04T10:00:00+03:00", client: "c2", .topup, "50"),
            tx("b2", "2024-03-05T10:00:00+03:00", client: "c2", .charge, service: "K", "20"),
            tx("b3", "2024-03-06T10:00:00+03:00", client: "c2", .charge, service: "S", "5"),
            tx("c1", "2024-03-10T10:00:00+03:00", client: "c3", .topup, "1000"),
        ], clients: [clientRecord("c1"), clientRecord("c2"), clientRecord("c3")], events: [
            ev("c1", "2024-01-01T10:00:00+03:00", .invited),
            ev("c1", "2024-01-01T10:00:00+03:00", .confirmed),
            ev("c2", "2024-01-01T10:00:00+03:00", .invited),
            ev("c2", "2024-01-01T10:00:00+03:00", .confirmed),
            ev("c3", "2024-03-02T10:00:00+03:00", .invited),
        ]))
        let p1 = try partner(report)
        #expect(p1.clients.map(\.movement) == [
            movement("100", charges: "10", refunds: "2", "92"),
            movement("0", topups: "50", charges: "25", "25"),
            nil,
        ])
        #expect(p1.totals == movement("100", topups: "50", charges: "35", refunds: "2", "117"))
        #expect(p1.services == [spend("K", charged: "20"), spend("S", charged: "15", refunded: "2")])
        #expect(report.summary.controlFailures.isEmpty)
    }

    @Test("clients by id, services by name, daily by date then service, partners by id — all byte-wise")
    func ordering() throws {
        let report = try runReport(export([
            tx("1", "2024-03-02T10:00:00+03:00", client: "c2", .charge, service: "a", "1"),
            tx("2", "2024-03-01T10:00:00+03:00", client: "c2", .charge, service: "Б", "2"),
            tx("3", "2024-03-01T11:00:00+03:00", client: "c2", .charge, service: "Z", "3"),
            tx("4", "2024-03-02T09:00:00+03:00", client: "c2", .charge, service: "Z", "4"),
        ], clients: [
            clientRecord("c2"), clientRecord("c10"), clientRecord("C1"), clientRecord("b"),
            clientRecord("x", partner: "p2"), clientRecord("y", partner: "P1"), clientRecord("z", partner: "default"),
        ]))
        #expect(report.partners.map(\.partnerID) == ["P1", "default", "p1", "p2"])
        let p1 = try partner(report)
        #expect(p1.clients.map(\.client.id) == ["C1", "b", "c10", "c2"])
        let c2 = try clientReport(report, "c2")
        #expect(c2.services.map(\.service) == ["Z", "a", "Б"])
        #expect(c2.daily == [
            daily("2024-03-01", "Z", "3"), daily("2024-03-01", "Б", "2"),
            daily("2024-03-02", "Z", "4"), daily("2024-03-02", "a", "1"),
        ])
        #expect(p1.services.map(\.service) == ["Z", "a", "Б"])
        #expect(c2.detail.map(\.transaction.id) == ["2", "3", "4", "1"])
    }

    @Test("two partners' clients never mix")
    func partnersDoNotMix() throws {
        let report = try runReport(export([
            tx("a", "2024-03-02T10:00:00+03:00", client: "c1", .charge, service: "S", "10"),
            tx("b", "2024-03-02T10:00:00+03:00", client: "c2", .charge, service: "S", "20"),
            tx("c", "2024-03-03T10:00:00+03:00", client: "c2", .charge, service: "K", "7"),
            tx("d", "2024-03-04T10:00:00+03:00", client: "c2", .topup, "100"),
        ], clients: [clientRecord("c1", partner: "p1"), clientRecord("c2", partner: "p2")]))
        #expect(report.partners.map(\.partnerID) == ["p1", "p2"])
        let p1 = try partner(report, "p1")
        let p2 = try partner(report, "p2")
        #expect(p1.clients.map(\.client.id) == ["c1"])
        #expect(p2.clients.map(\.client.id) == ["c2"])
        #expect(p1.clients.flatMap(\.detail).allSatisfy { $0.transaction.clientID == "c1" })
        #expect(p2.clients.flatMap(\.detail).allSatisfy { $0.transaction.clientID == "c2" })
        #expect(p1.totals == movement("0", charges: "10", "-10"))
        #expect(p2.totals == movement("0", topups: "100", charges: "27", "73"))
        #expect(p1.services == [spend("S", charged: "10")])
        #expect(p2.services == [spend("K", charged: "7"), spend("S", charged: "20")])
    }

    @Test("transactions of unknown clients appear in no report")
    func unknownClientsInNoReport() throws {
        let report = try runReport(export([
            tx("a", "2024-03-02T10:00:00+03:00", client: "c1", .charge, service: "S", "10"),
            tx("b", "2024-03-02T10:00:00+03:00", client: "ghost", .charge, service: "S", "20"),
        ], clients: [clientRecord("c1")]))
        #expect(report.partners.map(\.partnerID) == ["p1"])
        #expect(report.partners.flatMap(\.clients).flatMap(\.detail).map(\.transaction.id) == ["a"])
    }

    @Test("runs without clients records report everyone under the default partner")
    func defaultPartner() throws {
        let report = try runReport(export([
            tx("a", "2024-03-02T10:00:00+03:00", client: "c1", .charge, service: "S", "10"),
            tx("b", "2023-03-02T10:00:00+03:00", client: "c2", .topup, "20"),
        ]))
        #expect(report.partners.map(\.partnerID) == ["default"])
        let partner = try partner(report, "default")
        #expect(partner.clients.map(\.client.id) == ["c1", "c2"])
        #expect(partner.totals == movement("20", charges: "10", "10"))
        #expect(report.currency == "RUB")
    }
}
