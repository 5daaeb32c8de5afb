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

/// The runway (`Report/Runway.swift`): the recent spend rate and the whole days the closing balance
/// lasts at it, exact, and the same figure the "runs out within 7 days" attention line uses.
@Suite("Report: runway")
struct RunwayTests: ModelBuilders {
    func confirmed(_ id: String, at time: String = "2024-01-02 00:00:00") -> [ClientEvent] {
        [ev(id, "2024-01-01 00:00:00", .invited), ev(id, time, .confirmed)]
    }

    func report(_ transactions: [Transaction], clients ids: [String], events: [ClientEvent] = [],
                from: String = "2024-03-01", to: String = "2024-03-31", runwayDays: Int64 = 7) throws -> [String: ClientReport] {
        let clients = ids.map { clientRecord($0) }
        let e = export(transactions, clients: clients,
                       events: events.isEmpty ? ids.flatMap { confirmed($0) } : events)
        let ledger = Ledger.build(from: e)
        let run = ReportBuilder.build(ledger: ledger, export: e, period: try ReportPeriod.parse(from: from, to: to),
                                      runwayDays: runwayDays)
        return Dictionary(uniqueKeysWithValues: try partner(run).clients.map { ($0.client.id, $0) })
    }

    @Test("the rule: floor(closing × N / spend) in integers; no days where spend is zero or negative, in debt or detached")
    func rule() {
        let lasts = Runway(days: 7, spend: money("70"), closing: money("100"), attachedAtEnd: true)
        #expect(lasts.state == .lasts && lasts.daysLeft == 10 && lasts.dailyRate == money("10"))
        // Exactly 7 days is not "within 7 days"; a pico-unit less is.
        #expect(!Runway(days: 7, spend: money("70"), closing: money("70"), attachedAtEnd: true).runsOut(within: 7))
        let almost = Runway(days: 7, spend: money("70"), closing: Money(picos: money("70").picos - 1), attachedAtEnd: true)
        #expect(almost.daysLeft == 6 && almost.runsOut(within: 7))
        // A zero balance with spend: less than a day.
        #expect(Runway(days: 7, spend: money("5"), closing: .zero, attachedAtEnd: true).daysLeft == 0)
        let none = Runway(days: 7, spend: .zero, closing: money("100"), attachedAtEnd: true)
        #expect(none.state == .noSpend && none.daysLeft == nil && !none.runsOut(within: 7))
        #expect(Runway(days: 7, spend: money("-3"), closing: money("100"), attachedAtEnd: true).state == .noSpend)
        let debt = Runway(days: 7, spend: money("70"), closing: money("-0.01"), attachedAtEnd: true)
        #expect(debt.state == .inDebt && debt.daysLeft == nil)
        let gone = Runway(days: 7, spend: money("70"), closing: money("1"), attachedAtEnd: false)
        #expect(gone.state == .detached && gone.daysLeft == nil && !gone.runsOut(within: 7))
        // The displayed rate rounds to the nearest pico-unit; the days come from the exact pair.
        #expect(Runway(days: 7, spend: money("10"), closing: .zero, attachedAtEnd: true).dailyRate == Money(picos: 1_428_571_428_571))
        #expect(Runway(days: 3, spend: Money(picos: 2), closing: .zero, attachedAtEnd: true).dailyRate == Money(picos: 1))
        // Twelve-digit balances do not overflow: 10^12 ₽ at 1 pico-unit a week.
        let huge = Runway(days: 7, spend: Money(picos: 1), closing: money("1000000000000"), attachedAtEnd: true)
        #expect(huge.daysLeft == Int64.max)
    }

    @Test("only the last N visible days count, divided by the days counted (a client attached two days: two)")
    func window() throws {
        let byID = try report([
            tx("a0", "2024-03-01 10:00:00", client: "a", .topup, "100"),
            tx("a1", "2024-03-24 23:59:59", client: "a", .charge, service: "S", "50"),   // before the last 7 days
            tx("a2", "2024-03-25 00:00:00", client: "a", .charge, service: "S", "14"),   // the first second of them
            tx("n0", "2024-03-30 09:00:00", client: "new", .topup, "21"),
            tx("n1", "2024-03-30 10:00:00", client: "new", .charge, service: "S", "14"),
            tx("z0", "2024-03-02 10:00:00", client: "zero", .topup, "5"),
            tx("d0", "2024-03-30 10:00:00", client: "debt", .charge, service: "S", "5"),
        ], clients: ["a", "new", "zero", "debt"],
           events: confirmed("a") + confirmed("new", at: "2024-03-30 00:00:00") + confirmed("zero") + confirmed("debt"))
        #expect(byID["a"]!.runway == Runway(days: 7, spend: money("14"), closing: money("36"), attachedAtEnd: true))
        #expect(byID["a"]!.runway?.daysLeft == 18)
        // Attached for two days (SPEC §3, issue 20): 14 over the 2 visible days is 7 a day; 7 left lasts 1 day.
        #expect(byID["new"]!.runway?.days == 2)
        #expect(byID["new"]!.runway?.dailyRate == money("7") && byID["new"]!.runway?.daysLeft == 1)
        #expect(byID["new"]!.attention.reasons == .runningOut && byID["new"]!.attention.daysLeft == 1)
        #expect(byID["zero"]!.runway?.state == .noSpend)
        #expect(byID["debt"]!.runway?.state == .inDebt && byID["debt"]!.attention.reasons == .inDebt)
    }

    @Test("a period of one day, and --runway-days 3")
    func shortWindows() throws {
        let transactions = [
            tx("a0", "2024-03-01 10:00:00", client: "a", .topup, "100"),
            tx("a1", "2024-03-28 10:00:00", client: "a", .charge, service: "S", "30"),
            tx("a2", "2024-03-31 10:00:00", client: "a", .charge, service: "S", "7"),
        ]
        let day = try report(transactions, clients: ["a"], from: "2024-03-31", to: "2024-03-31")
        // Only the visible day counts, and it is divided by that one day: 63 at 7 a day.
        #expect(day["a"]!.runway?.spend == money("7") && day["a"]!.runway?.days == 1 && day["a"]!.runway?.daysLeft == 9)
        let three = try report(transactions, clients: ["a"], runwayDays: 3)
        // 2024-03-29..31: 7 over 3 days; 63 × 3 / 7 = 27.
        #expect(three["a"]!.runway?.spend == money("7") && three["a"]!.runway?.daysLeft == 27)
        let seven = try report(transactions, clients: ["a"])
        #expect(seven["a"]!.runway?.spend == money("37") && seven["a"]!.runway?.daysLeft == 11)
    }

    @Test("removed on 28 March, confirmed again on 29 March: the last 7 visible days hold 70 + 7, 11 a day (issue 20)")
    func acrossAReattachment() throws {
        let byID = try report([
            tx("r0", "2024-03-01 10:00:00", client: "r", .topup, "130"),
            tx("r1", "2024-03-26 10:00:00", client: "r", .charge, service: "S", "70"),
            tx("r2", "2024-03-30 10:00:00", client: "r", .charge, service: "S", "7"),
        ], clients: ["r"], events: confirmed("r") + [ev("r", "2024-03-28 12:00:00", .removed), ev("r", "2024-03-28 18:00:00", .invited),
                                                     ev("r", "2024-03-29 09:00:00", .confirmed)])
        let runway = try #require(byID["r"]!.runway)
        #expect(runway.days == 7 && runway.spend == money("77"))
        #expect(runway.dailyRate == money("11"))
        // 53 left at 11 a day: 4 whole days (not 53 at 1 a day, 53 days).
        #expect(runway.daysLeft == 4)
        #expect(byID["r"]!.attention.reasons.contains(.runningOut))
    }

    @Test("the window: Moscow days with a visible moment, counted back across gaps; a part day counts; fewer when there are fewer")
    func windowFunction() throws {
        func at(_ text: String) throws -> Instant { try TimestampParser.parse(text) }
        func interval(_ a: String, _ b: String) throws -> Interval { Interval(start: try at(a), end: try at(b)) }
        // Two intervals of March with a gap of a day and a half: 31, 30, 29 (part), 27 (part), 26, 25, 24.
        let visible = [try interval("2024-03-01T00:00:00+03:00", "2024-03-27T12:00:00+03:00"),
                       try interval("2024-03-29T09:00:00+03:00", "2024-04-01T00:00:00+03:00")]
        let seven = Runway.window(visible: visible, days: 7)
        let start24 = try at("2024-03-24T00:00:00+03:00")
        #expect(seven.days == 7 && seven.from == start24)
        // Two intervals sharing a Moscow day count it once.
        let sameDay = [try interval("2024-03-30T00:00:00+03:00", "2024-03-30T10:00:00+03:00"),
                       try interval("2024-03-30T15:00:00+03:00", "2024-03-31T00:00:00+03:00")]
        let one = Runway.window(visible: sameDay, days: 7)
        let start30 = try at("2024-03-30T00:00:00+03:00")
        #expect(one.days == 1 && one.from == start30)
        // Attached 23:00 on the 30th to the period end: the 30th and the 31st.
        let late = Runway.window(visible: [try interval("2024-03-30T23:00:00+03:00", "2024-04-01T00:00:00+03:00")], days: 7)
        #expect(late.days == 2 && late.from == start30)
    }

    @Test("pages show a usable rate and 'more than a year'; snapshot.csv keeps the exact figures", arguments: ReportLanguage.allCases)
    func displayed(_ language: ReportLanguage) throws {
        let clients = ["rich"].map { clientRecord($0) }
        let e = export([
            tx("t0", "2024-03-01 10:00:00", client: "rich", .topup, "11433.342086"),
            tx("t1", "2024-03-30 10:00:00", client: "rich", .charge, service: "S", "0.004166999998"),
        ], clients: clients, events: clients.flatMap { confirmed($0.id) })
        let run = ReportBuilder.build(ledger: Ledger.build(from: e), export: e, period: try ReportPeriod.parse("2024-03"))
        let set = try RepositoryTemplates.set(language)
        let renderer = ReportRenderer(templates: set, dialect: .standard)
        let p = try partner(run)
        let csv = String(decoding: try renderer.page(set.snapshotCSV, p, run), as: UTF8.self)
        let days = try #require(p.clients[0].runway?.daysLeft)
        #expect(days > 365)
        #expect(csv.contains(",0.000595285714,\(days)\n"), "\(csv)")
        let html = String(decoding: try renderer.clientPage(set.clientHTML, [p.clients[0]], p, run), as: UTF8.self)
        let text = EmailHTMLChecker(html).text
        switch language {
        case .ru:
            #expect(text.contains("Расход в день: меньше 0,01\u{00A0}₽ за последние 7 дн."), "\(text)")
            #expect(text.contains("При таком расходе баланса хватит больше чем на год."))
        case .en:
            #expect(text.contains("Spend rate: less than RUB\u{00A0}0.01 a day"), "\(text)")
            #expect(text.contains("At this rate the balance lasts more than a year."))
        }
        #expect(!text.contains(String(days)) && !text.contains("0,000595") && !text.contains("0.000595"))
    }

    @Test("removed before the period end: detached, no runway days, not running out")
    func detached() throws {
        let byID = try report([
            tx("r0", "2024-03-01 10:00:00", client: "gone", .topup, "10"),
            tx("r1", "2024-03-20 10:00:00", client: "gone", .charge, service: "S", "9"),
        ], clients: ["gone"], events: confirmed("gone") + [ev("gone", "2024-03-21 00:00:00", .removed)])
        #expect(byID["gone"]!.runway?.state == .detached && byID["gone"]!.attention.reasons == .removed)
    }

    @Test("snapshot.csv carries spend_rate_daily and runway_days after closing_balance; the client page says it", arguments: ReportLanguage.allCases)
    func rendered(_ language: ReportLanguage) throws {
        let clients = ["a", "b", "c"].map { clientRecord($0) }
        let e = export([
            tx("a0", "2024-03-01 10:00:00", client: "a", .topup, "100"),
            tx("a1", "2024-03-28 10:00:00", client: "a", .charge, service: "S", "70"),
            tx("b0", "2024-03-01 10:00:00", client: "b", .topup, "100"),
            tx("c1", "2024-03-28 10:00:00", client: "c", .charge, service: "S", "1"),
        ], clients: clients, events: clients.flatMap { confirmed($0.id) })
        let run = ReportBuilder.build(ledger: Ledger.build(from: e), export: e, period: try ReportPeriod.parse("2024-03"))
        let set = try RepositoryTemplates.set(language)
        let renderer = ReportRenderer(templates: set, dialect: .standard)
        let p = try partner(run)
        let csv = String(decoding: try renderer.page(set.snapshotCSV, p, run), as: UTF8.self)
        let lines = csv.split(separator: "\n").map { String($0).trimmingCharacters(in: ["\r"]) }
        #expect(lines.first?.hasSuffix(",closing_balance,spend_rate_daily,runway_days") == true)
        #expect(lines.contains { $0.hasPrefix("a,") && $0.hasSuffix(",30.00,10.00,3") })
        #expect(lines.contains { $0.hasPrefix("b,") && $0.hasSuffix(",100.00,0.00,") })
        #expect(lines.contains { $0.hasPrefix("c,") && $0.hasSuffix(",-1.00,0.142857142857,") })

        let page = { (id: String) throws -> String in
            let client = try #require(p.clients.first { $0.client.id == id })
            let html = String(decoding: try renderer.clientPage(set.clientHTML, [client], p, run), as: UTF8.self)
            let checker = EmailHTMLChecker(html)
            #expect(checker.pageProblems.isEmpty, "\(checker.pageProblems)")
            return checker.text
        }
        let (a, b, c) = (try page("a"), try page("b"), try page("c"))
        switch language {
        case .en:
            #expect(a.contains("Days the balance lasts at this rate: 3."))
            #expect(b.contains("nothing was spent in these days"))
            #expect(c.contains("the balance is already below zero"))
        case .ru:
            #expect(a.contains("Дней до нуля при таком расходе: 3."))
            #expect(b.contains("в эти дни расхода не было"))
            #expect(c.contains("баланс уже в минусе"))
        }
        let index = EmailHTMLChecker(String(decoding: try renderer.page(set.partnerIndex, p, run), as: UTF8.self)).text
        #expect(index.contains(language == .en ? "runs out within 7 days: days left: 3" : "закончится в течение 7 дней: осталось дней: 3"))
    }
}
