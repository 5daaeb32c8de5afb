@testable import BalanceTestSupport
@testable import BalancePipeline
@testable import BalanceSend
@testable import BalanceOutput
@testable import BalanceRender
@testable import BalanceReport
@testable import BalanceIngest
@testable import BalanceModel
@testable import BalanceSupport
import Foundation
import Testing

/// Change since the previous period (`Report/Comparison.swift`): the previous period's rule, the
/// rows of `changes.csv`, new and gone clients, the largest rises and falls, and the attachment
/// windows applied to the previous period as to the current one.
@Suite("Report: comparison with the previous period")
struct ComparisonTests: ModelBuilders {
    func period(_ first: String, _ last: String) throws -> ReportPeriod {
        try ReportPeriod(firstDay: day(first), lastDay: day(last))
    }

    func spendClient(_ id: String, _ services: [(String, String)]) -> PeriodSpend.Client {
        PeriodSpend.Client(id: id, name: "Client \(id)", services: services.map { PeriodSpend.Service(service: $0.0, net: money($0.1)) })
    }

    func rows(_ c: PartnerComparison) -> [String] {
        c.rows.map { r in
            "\(r.clientID)|\(r.service)|\(r.previous.map(\.description) ?? "-")|\(r.current.map(\.description) ?? "-")|\(r.change)"
        }
    }

    @Test("the previous period: whole months give as many months before, any other span as many days before")
    func previousPeriod() throws {
        #expect(try ReportPeriod.parse("2024-03").previous() == period("2024-02-01", "2024-02-29"))
        #expect(try ReportPeriod.parse("2024-01").previous() == period("2023-12-01", "2023-12-31"))
        #expect(try ReportPeriod.parse("2024-Q1").previous() == period("2023-10-01", "2023-12-31"))
        #expect(try ReportPeriod.parse("2024-Q3").previous() == period("2024-04-01", "2024-06-30"))
        #expect(try ReportPeriod.parse("2024").previous() == period("2023-01-01", "2023-12-31"))
        // --from/--to covering whole months is a span of months too (two months here).
        #expect(try period("2024-02-01", "2024-03-31").previous() == period("2023-12-01", "2024-01-31"))
        // N days: the N days before; one day: the day before.
        #expect(try period("2024-03-01", "2024-03-15").previous() == period("2024-02-15", "2024-02-29"))
        #expect(try period("2024-03-16", "2024-03-31").previous() == period("2024-02-29", "2024-03-15"))
        #expect(try period("2024-03-01", "2024-03-01").previous() == period("2024-02-29", "2024-02-29"))
        // Nothing before year 1.
        #expect(throws: Diagnostic.self) { try ReportPeriod.parse("0001-01").previous() }
        #expect(throws: Diagnostic.self) { try self.period("0001-01-01", "0001-01-05").previous() }
    }

    @Test("rows: a service that appears is 0 then, one that disappears is 0 now; a new client has no previous side, a gone one no current side")
    func rowsOfEachKind() throws {
        let then = PeriodSpend(period: try period("2024-02-01", "2024-02-29"), clients: [
            spendClient("a", [("Compute", "100"), ("Storage", "5")]),
            spendClient("gone", [("Compute", "7")]),
            spendClient("quiet", []),
        ])
        let now = PeriodSpend(period: try ReportPeriod.parse("2024-03"), clients: [
            spendClient("a", [("CDN", "2"), ("Compute", "100")]),
            spendClient("new", [("Storage", "3")]),
            spendClient("quiet", []),
            spendClient("zero", []),
        ])
        let c = PartnerComparison(previous: then, current: now)
        #expect(rows(c) == [
            "a|CDN|0.00|2.00|2.00",
            "a|Compute|100.00|100.00|0.00",
            "a|Storage|5.00|0.00|-5.00",
            "gone|Compute|7.00|-|-7.00",
            "new|Storage|-|3.00|3.00",
        ])
        #expect(c.newClients.map(\.id) == ["new", "zero"])
        #expect(c.goneClients.map(\.id) == ["gone"])
        #expect(c.previousSpend == money("112") && c.currentSpend == money("105") && c.change == money("-7"))
        // Rises and falls only among clients listed in both periods; an unchanged row is neither.
        #expect(c.rises.map { c.rows[$0].service } == ["CDN"])
        #expect(c.falls.map { c.rows[$0].service } == ["Storage"])
        #expect(c.rows(ofClient: "a").map(\.service) == ["CDN", "Compute", "Storage"])
        #expect(c.rows(ofClient: "zero").isEmpty && c.isNew("zero") && !c.isNew("a"))
    }

    @Test("the five largest rises and falls, ties broken by client id bytes then service")
    func risesAndFalls() throws {
        let ids = ["c", "a", "b", "d", "e", "f", "g"]
        let then = PeriodSpend(period: try period("2024-02-01", "2024-02-29"),
                               clients: ids.map { spendClient($0, [("S", "10"), ("T", "10")]) })
        // Every client: S rises by 5 (ties), T falls by its own amount; g's fall is the largest.
        let falls = ["c": "1", "a": "2", "b": "3", "d": "4", "e": "5", "f": "6", "g": "9"]
        let now = PeriodSpend(period: try ReportPeriod.parse("2024-03"), clients: ids.map { id in
            spendClient(id, [("S", "15"), ("T", String(10 - Int(falls[id]!)!))])
        })
        let c = PartnerComparison(previous: then, current: now)
        #expect(c.rises.map { c.rows[$0].clientID } == ["a", "b", "c", "d", "e"])
        #expect(c.falls.map { c.rows[$0].clientID } == ["g", "f", "e", "d", "b"])
        #expect(c.rises.count == PartnerComparison.highlightLimit && c.falls.count == PartnerComparison.highlightLimit)
        // Same change, same client: the service decides.
        let one = PartnerComparison(
            previous: PeriodSpend(period: then.period, clients: [spendClient("x", [("B", "1"), ("A", "1")])]),
            current: PeriodSpend(period: now.period, clients: [spendClient("x", [("B", "2"), ("A", "2")])]))
        #expect(one.rises.map { one.rows[$0].service } == ["A", "B"])
    }

    @Test("ids that are NFC/NFD lookalikes are two clients: one gone, one new; services likewise")
    func lookalikes() throws {
        let nfc = "\u{0401}лка"          // Ёлка, precomposed
        let nfd = "\u{0415}\u{0308}лка"  // Е + combining diaeresis
        #expect(nfc == nfd)  // Swift String == is canonical equivalence: why ids are compared as bytes
        let then = PeriodSpend(period: try period("2024-02-01", "2024-02-29"), clients: [spendClient(nfc, [(nfc, "1")])])
        let now = PeriodSpend(period: try ReportPeriod.parse("2024-03"), clients: [spendClient(nfd, [(nfd, "1")])])
        let c = PartnerComparison(previous: then, current: now)
        #expect(c.goneClients.map { Array($0.id.utf8) } == [Array(nfc.utf8)])
        #expect(c.newClients.map { Array($0.id.utf8) } == [Array(nfd.utf8)])
        #expect(c.rows.count == 2 && c.rises.isEmpty && c.falls.isEmpty)
        // One client, two lookalike services: one disappears, one appears.
        let same = PartnerComparison(
            previous: PeriodSpend(period: then.period, clients: [spendClient("x", [(nfc, "4")])]),
            current: PeriodSpend(period: now.period, clients: [spendClient("x", [(nfd, "4")])]))
        // Ё precomposed (D0 81) sorts before Е (D0 95) + U+0308.
        #expect(same.rows.map(\.change) == [money("-4"), money("4")])
        #expect(same.rows.map { Array($0.service.utf8) } == [Array(nfc.utf8), Array(nfd.utf8)])
    }

    // MARK: From the ledger (--compare previous)

    func confirmed(_ id: String, at time: String = "2024-01-02 00:00:00") -> [ClientEvent] {
        [ev(id, "2024-01-01 00:00:00", .invited), ev(id, time, .confirmed)]
    }

    func compared(_ transactions: [Transaction], clients ids: [String], events: [ClientEvent],
                  period text: String = "2024-03", from: String? = nil, to: String? = nil) throws -> (RunReport, PartnerComparison) {
        let e = export(transactions, clients: ids.map { clientRecord($0) }, events: events)
        let ledger = Ledger.build(from: e)
        let chosen = try from.map { try ReportPeriod.parse(from: $0, to: to!) } ?? ReportPeriod.parse(text)
        var run = ReportBuilder.build(ledger: ledger, export: e, period: chosen)
        try Comparison.comparePrevious(&run, ledger: ledger)
        return (run, try #require(try partner(run).comparison))
    }

    @Test("the previous period sees only the attachment windows: a client attached for two days, one removed in it, one in debt")
    func windowsInThePreviousPeriod() throws {
        let events = confirmed("two", at: "2024-02-28 00:00:00") + confirmed("removed") + [ev("removed", "2024-02-10 00:00:00", .removed)]
            + confirmed("debt")
        let (_, c) = try compared([
            // Before "two" is attached: not the partner's, in neither period.
            tx("t0", "2024-02-27 23:59:59", client: "two", .charge, service: "S", "1000"),
            tx("t1", "2024-02-28 10:00:00", client: "two", .charge, service: "S", "20"),
            tx("t2", "2024-03-05 10:00:00", client: "two", .charge, service: "S", "30"),
            // Removed on Feb 10: its spend until then is shown, after it is its own.
            tx("r1", "2024-02-09 10:00:00", client: "removed", .charge, service: "S", "8"),
            tx("r2", "2024-02-11 10:00:00", client: "removed", .charge, service: "S", "500"),
            // A negative balance does not matter to spend: charges − refunds in both periods.
            tx("d1", "2024-02-05 10:00:00", client: "debt", .charge, service: "S", "50"),
            tx("d2", "2024-03-05 10:00:00", client: "debt", .charge, service: "S", "70"),
            tx("d3", "2024-03-06 10:00:00", client: "debt", .refund, service: "S", "10"),
        ], clients: ["two", "removed", "debt"], events: events)
        #expect(rows(c) == [
            "debt|S|50.00|60.00|10.00",
            "removed|S|8.00|-|-8.00",
            "two|S|20.00|30.00|10.00",
        ])
        #expect(c.goneClients.map(\.id) == ["removed"])
        #expect(c.newClients.isEmpty)
        #expect(c.previousPeriod == (try period("2024-02-01", "2024-02-29")))
    }

    @Test("a period of one day compares with the day before; zero spend shows as zero, not as a change")
    func oneDay() throws {
        let (_, c) = try compared([
            tx("a1", "2024-03-09 23:59:59", client: "a", .charge, service: "S", "5"),
            tx("a2", "2024-03-10 00:00:00", client: "a", .charge, service: "S", "5"),
            tx("z1", "2024-03-09 12:00:00", client: "z", .charge, service: "S", "0"),
            tx("z2", "2024-03-10 12:00:00", client: "z", .charge, service: "S", "0"),
        ], clients: ["a", "z"], events: confirmed("a") + confirmed("z"), from: "2024-03-10", to: "2024-03-10")
        #expect(c.previousPeriod == (try period("2024-03-09", "2024-03-09")))
        #expect(rows(c) == ["a|S|5.00|5.00|0.00", "z|S|0.00|0.00|0.00"])
        #expect(c.rises.isEmpty && c.falls.isEmpty && c.change == .zero)
    }

    @Test("clients invited in the current period are new, whether confirmed (spend shown) or only invited (no spend)")
    func newClients() throws {
        let (_, c) = try compared([
            tx("n1", "2024-03-05 10:00:00", client: "new", .charge, service: "S", "3"),
                    tx("o1", "2024-02-05 10:00:00", client: "old", .charge, service: "S", "1"),
        ], clients: ["new", "invited", "old"],
           events: [ev("new", "2024-03-01 00:00:00", .invited), ev("new", "2024-03-01 01:00:00", .confirmed),
                    ev("invited", "2024-03-02 00:00:00", .invited)] + confirmed("old"))
        #expect(c.newClients.map(\.id) == ["invited", "new"])
        // The invited client's money is not the partner's: its spend is unknown, not zero.
        #expect(c.newClients.map(\.moneyShown) == [false, true])
        #expect(rows(c) == ["new|S|-|3.00|3.00", "old|S|1.00|0.00|-1.00"])
    }

    @Test("inputs that hold nothing before the current period do not cover the previous one: refused")
    func coverage() throws {
        let e = export([tx("a1", "2024-03-01 00:00:00", client: "a", .charge, service: "S", "5")],
                       clients: [clientRecord("a")], events: confirmed("a"))
        let ledger = Ledger.build(from: e)
        var run = ReportBuilder.build(ledger: ledger, export: e, period: try ReportPeriod.parse("2024-03"))
        #expect(throws: Diagnostic.self) { try Comparison.comparePrevious(&run, ledger: ledger) }
        #expect(run.partners.allSatisfy { $0.comparison == nil })
        // One transaction a second before the period start is enough.
        let covered = export([tx("a0", "2024-02-29 23:59:59", client: "a", .charge, service: "S", "1"),
                              tx("a1", "2024-03-01 00:00:00", client: "a", .charge, service: "S", "5")],
                             clients: [clientRecord("a")], events: confirmed("a"))
        let coveredLedger = Ledger.build(from: covered)
        var coveredRun = ReportBuilder.build(ledger: coveredLedger, export: covered, period: try ReportPeriod.parse("2024-03"))
        try Comparison.comparePrevious(&coveredRun, ledger: coveredLedger)
        #expect(rows(try #require(try partner(coveredRun).comparison)) == ["a|S|1.00|5.00|4.00"])
    }

    @Test("property: a period compared with itself shows no change, no new or gone client, no rise or fall")
    func selfComparison() throws {
        var generator = SplitMix64(seed: 13)
        var compared = 0
        for round in 0..<25 {
            var transactions: [Transaction] = []
            var events: [ClientEvent] = []
            let ids = (0..<Int(generator.next() % 6 + 1)).map { "c\($0)" + (round % 2 == 0 ? "" : "\u{0301}") }
            for id in ids {
                events += confirmed(id, at: "2024-0\(generator.next() % 3 + 1)-1\(generator.next() % 9) 00:00:00")
                if generator.next() % 3 == 0 { events.append(ev(id, "2024-03-2\(generator.next() % 9) 00:00:00", .removed)) }
                for n in 0..<Int(generator.next() % 8) {
                    let kind: TransactionKind = [.topup, .charge, .charge, .refund][Int(generator.next() % 4)]
                    transactions.append(tx("\(id)-\(n)", "2024-0\(generator.next() % 3 + 1)-1\(generator.next() % 9) 1\(n % 10):00:00",
                                           client: id, kind, service: kind == .topup ? "" : ["A", "B", "C"][Int(generator.next() % 3)],
                                           "\(generator.next() % 1000).\(generator.next() % 100)"))
                }
            }
            let e = export(transactions, clients: ids.map { clientRecord($0) }, events: events)
            let run = ReportBuilder.build(ledger: Ledger.build(from: e), export: e, period: try ReportPeriod.parse("2024-03"))
            for partner in run.partners {
                let side = PeriodSpend(partner, period: run.period)
                let c = PartnerComparison(previous: side, current: side)
                #expect(c.rows.allSatisfy { $0.change == .zero && $0.previous == $0.current && $0.previous != nil })
                #expect(c.newClients.isEmpty && c.goneClients.isEmpty && c.rises.isEmpty && c.falls.isEmpty)
                #expect(c.rows.count == partner.clients.reduce(0) { $0 + $1.services.count })
                #expect(c.previousSpend == partner.totals.charges - partner.totals.refunds)
                compared += c.rows.count
            }
        }
        #expect(compared > 20, "the generated ledgers have too little spend to compare")
    }
}
