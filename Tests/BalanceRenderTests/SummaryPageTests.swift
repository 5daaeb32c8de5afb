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

/// The partner summary (`index.html`): what it calls out, how it picks the clients it lists, and its
/// size budget (Gmail clips a message whose HTML passes about 102 KB).
@Suite("Partner summary")
struct SummaryPageTests: ModelBuilders {
    static let services = ["Compute Cloud", "Managed PostgreSQL", "Object Storage", "Kubernetes", "Cloud CDN",
                           "Cloud Functions", "Managed Kafka", "Load Balancer"]

    /// A partner with `count` clients with long Cyrillic names (with `&` and quotes, which grow when
    /// escaped), eight services, and many clients to call out: every 7th blocked in the period,
    /// every 11th removed in it, every 13th below zero.
    func largePartner(_ count: Int) throws -> RunReport {
        var clients: [ClientRecord] = []
        var events: [ClientEvent] = []
        var transactions: [Transaction] = []
        for number in 1...count {
            let id = String(format: "cl-%05d", number)
            clients.append(clientRecord(id, partner: "большой-партнёр",
                                        name: "ООО «Научно-производственное объединение \"Клиент \(number)\"» & партнёры"))
            events.append(ev(id, "2024-01-01 00:00:00", .invited))
            events.append(ev(id, "2024-01-02 00:00:00", .confirmed))
            if number % 7 == 0 { events.append(ev(id, "2024-03-15 12:00:00", .blocked)) }
            if number % 11 == 0 { events.append(ev(id, "2024-03-20 12:00:00", .removed)) }
            transactions.append(tx("t\(number)-0", "2024-03-01 09:00:00", client: id, .topup, "\(1000 + number).25"))
            for step in 0..<3 {
                let service = SummaryPageTests.services[(number + step) % SummaryPageTests.services.count]
                let amount = number % 13 == 0 && step == 2 ? "5000.123456" : "\(number % 97 + step).5"
                transactions.append(tx("t\(number)-\(step + 1)", "2024-03-\(10 + step) 1\(step):00:00", client: id, .charge,
                                       service: service, amount))
            }
        }
        return try runReport(export(transactions, clients: clients, events: events))
    }

    func index(_ report: RunReport, _ language: ReportLanguage) throws -> [UInt8] {
        let set = try RepositoryTemplates.set(language)
        let renderer = ReportRenderer(templates: set, dialect: .standard)
        return try renderer.page(set.partnerIndex, try #require(report.partners.first), report)
    }

    @Test(arguments: ReportLanguage.allCases)
    func theSummaryOfTwoThousandClientsStaysUnder100KB(_ language: ReportLanguage) throws {
        let report = try largePartner(2000)
        let partner = try #require(report.partners.first)
        #expect(partner.clients.count == 2000)
        let bytes = try index(report, language)
        print("index.html (\(language)) for 2,000 clients: \(bytes.count) bytes")
        #expect(bytes.count < 100_000, "index.html is \(bytes.count) bytes")
        let html = String(decoding: bytes, as: UTF8.self)
        let checker = EmailHTMLChecker(html)
        #expect(checker.pageProblems.isEmpty, "\(checker.pageProblems)")
        // 50 clients listed, 20 called out, the rest summed up with a pointer to the CSV.
        let listed = Set(html.matches(of: /cl-\d{5}/).map { String($0.output) })
        #expect(listed.count <= PartnerHighlights.clientLimit + PartnerHighlights.attentionLimit)
        #expect(checker.text.contains("1950"))
        #expect(checker.text.contains("snapshot"))
        let highlights = PartnerHighlights(partner, partner.onlyBook)
        #expect(highlights.top.count == 50 && highlights.restCount == 1950)
        #expect(highlights.attention.count == 20)
        let flagged = (1...2000).filter { $0 % 7 == 0 || $0 % 11 == 0 || $0 % 13 == 0 }
        #expect(highlights.attentionCount == flagged.count)
        // The rest line and the listed clients add up to the partner's totals.
        let listedClosing = highlights.top.compactMap { partner.clients[$0].movement?.closing }.reduce(Money.zero, +)
        #expect(listedClosing + highlights.rest.closing == partner.totals.closing)
    }

    @Test func clientsAreListedBySpendAndTheCalledOutOnesSayWhy() throws {
        let clients = ["a", "b", "c", "d", "e", "f"].map { clientRecord($0, name: "Client \($0.uppercased())") }
        let report = try runReport(export([
            tx("t1", "2024-03-02 10:00:00", client: "a", .charge, service: "S", "10"),
            tx("t2", "2024-03-02 10:00:00", client: "b", .charge, service: "S", "30"),
            tx("t3", "2024-03-02 10:00:00", client: "c", .topup, "100"),
            tx("t4", "2024-03-03 10:00:00", client: "c", .charge, service: "S", "20"),
            tx("t5", "2024-03-03 11:00:00", client: "c", .refund, service: "S", "5"),
            tx("t6", "2024-03-02 10:00:00", client: "f", .charge, service: "S", "50"),
            tx("t7", "2024-03-03 10:00:00", client: "f", .topup, "100"),
        ], clients: clients, events: [
            ev("a", "2024-01-01 00:00:00", .invited), ev("a", "2024-01-02 00:00:00", .confirmed),
            ev("b", "2024-01-01 00:00:00", .invited), ev("b", "2024-01-02 00:00:00", .confirmed),
            ev("b", "2024-02-01 00:00:00", .blocked),          // blocked before the period: not news
            ev("c", "2024-01-01 00:00:00", .invited), ev("c", "2024-01-02 00:00:00", .confirmed),
            ev("c", "2024-03-10 00:00:00", .removed), ev("c", "2024-03-12 00:00:00", .invited),
            ev("c", "2024-03-13 00:00:00", .confirmed),        // removed and added again
            ev("d", "2024-01-01 00:00:00", .invited), ev("d", "2024-01-02 00:00:00", .confirmed),
            ev("d", "2024-03-25 00:00:00", .blocked),
            ev("e", "2024-03-05 00:00:00", .invited),          // never confirmed: money not shown
            ev("f", "2024-01-01 00:00:00", .invited), ev("f", "2024-01-02 00:00:00", .confirmed),
        ]))
        let partnerReport = try partner(report)
        let period = report.period.interval
        _ = period
        let highlights = PartnerHighlights(partnerReport, partnerReport.onlyBook)
        #expect(highlights.top.map { partnerReport.clients[$0].client.id } == ["f", "b", "c", "a", "d", "e"])
        let byID = Dictionary(uniqueKeysWithValues: partnerReport.clients.map { ($0.client.id, $0) })
        #expect(byID["a"]!.lowestBalance == money("-10") && byID["a"]!.attention.reasons == .inDebt)
        #expect(byID["b"]!.attention.reasons == .inDebt && byID["b"]!.blocksInPeriod.isEmpty)
        #expect(byID["c"]!.lowestBalance == money("0") && byID["c"]!.removedAt == at("2024-03-10 00:00:00"))
        #expect(byID["c"]!.attention.reasons == .removed)
        #expect(byID["d"]!.attention.reasons == .blocked)
        #expect(!byID["e"]!.attention.isNeeded && byID["e"]!.lowestBalance == nil)
        #expect(byID["f"]!.lowestBalance == money("-50") && byID["f"]!.dippedBelowZero)
        #expect(!byID["b"]!.dippedBelowZero)
        // A dip below zero that recovered leaves nothing to do: f is not on the list.
        #expect(!byID["f"]!.attention.isNeeded)
        // In debt at the end (largest debt first), then still blocked, then removed.
        #expect(highlights.attention.map { partnerReport.clients[$0].client.id } == ["b", "a", "d", "c"])

        let text = EmailHTMLChecker(String(decoding: try index(report, .ru), as: UTF8.self)).text
        #expect(text.contains("Требуют внимания: 4"))
        #expect(text.contains("отключён 10.03.2024 00:00"))
        #expect(text.contains("заблокирован 25.03.2024 00:00"))
        #expect(text.contains("Client B b") && text.contains("в минусе на конец периода"))
        #expect(!text.contains("баланс опускался до \u{2212}30,00\u{00A0}₽"), "b's lowest balance is its closing one")
        let english = EmailHTMLChecker(String(decoding: try index(report, .en), as: UTF8.self)).text
        #expect(english.contains("removed 2024-03-10 00:00"))
        #expect(english.contains("below zero at the period end"))
    }

    @Test("a block inside the period is called out even when it was lifted again; one that began before is not")
    func blocksInsideThePeriod() throws {
        let clients = ["g", "h", "i"].map { clientRecord($0, name: "Client \($0.uppercased())") }
        let report = try runReport(export([
            tx("t1", "2024-03-02 10:00:00", client: "g", .topup, "100"),
            tx("t2", "2024-03-02 10:00:00", client: "h", .topup, "100"),
            tx("t3", "2024-03-02 10:00:00", client: "i", .topup, "100"),
        ], clients: clients, events: [
            ev("g", "2024-01-01 00:00:00", .invited), ev("g", "2024-01-02 00:00:00", .confirmed),
            ev("g", "2024-03-05 09:00:00", .blocked), ev("g", "2024-03-08 18:30:00", .unblocked),
            ev("h", "2024-01-01 00:00:00", .invited), ev("h", "2024-01-02 00:00:00", .confirmed),
            ev("h", "2024-03-05 09:00:00", .blocked), ev("h", "2024-03-08 18:30:00", .unblocked),
            ev("h", "2024-03-20 12:00:00", .blocked),          // blocked again: still blocked at the end
            ev("i", "2024-01-01 00:00:00", .invited), ev("i", "2024-01-02 00:00:00", .confirmed),
            ev("i", "2024-02-20 00:00:00", .blocked), ev("i", "2024-03-03 00:00:00", .unblocked),
        ]))
        let partnerReport = try partner(report)
        let byID = Dictionary(uniqueKeysWithValues: partnerReport.clients.map { ($0.client.id, $0) })
        #expect(byID["g"]!.state == .active)
        #expect(byID["g"]!.blocksInPeriod == [ClientReport.Block(blocked: at("2024-03-05 09:00:00"), unblocked: at("2024-03-08 18:30:00"))])
        #expect(byID["h"]!.blocksInPeriod.map(\.unblocked) == [at("2024-03-08 18:30:00"), nil])
        #expect(byID["i"]!.blocksInPeriod.isEmpty)
        let highlights = PartnerHighlights(partnerReport, partnerReport.onlyBook)
        #expect(Set(highlights.attention.map { partnerReport.clients[$0].client.id }) == ["g", "h"])
        #expect(byID["g"]!.attention.reasons == .blockLifted && byID["h"]!.attention.reasons == .blocked)
        // Still blocked ranks above a block that was lifted.
        #expect(highlights.attention.map { partnerReport.clients[$0].client.id } == ["h", "g"])

        let text = EmailHTMLChecker(String(decoding: try index(report, .ru), as: UTF8.self)).text
        #expect(text.contains("заблокирован 05.03.2024 09:00, разблокирован 08.03.2024 18:30"))
        #expect(text.contains("заблокирован 20.03.2024 12:00"))
        #expect(!text.contains("заблокирован 20.02.2024"))
        let english = EmailHTMLChecker(String(decoding: try index(report, .en), as: UTF8.self)).text
        #expect(english.contains("blocked 2024-03-05 09:00, unblocked 2024-03-08 18:30"))
    }

    @Test func englishFiguresAndDates() {
        #expect(EnglishFormatting.amount(money("1234567.005"), currency: "RUB") == "RUB\u{00A0}1,234,567.01")
        // Under half a kopeck: the exact amount with its sign, never a silent 0.00.
        #expect(EnglishFormatting.amount(money("-0.004"), currency: "RUB") == "\u{2212}RUB\u{00A0}0.004")
        #expect(EnglishFormatting.amount(money("0.000001"), currency: "USD") == "$0.000001")
        #expect(EnglishFormatting.amount(money("-0.005"), currency: "RUB") == "\u{2212}RUB\u{00A0}0.01")
        #expect(EnglishFormatting.amount(money("-1500"), currency: "RUB") == "\u{2212}RUB\u{00A0}1,500.00")
        #expect(EnglishFormatting.amount(money("999.999"), currency: "USD") == "$1,000.00")
        #expect(EnglishFormatting.amount(money("12.5"), currency: "EUR") == "€12.50")
        #expect(EnglishFormatting.dateTime(at("2024-02-29T21:00:00Z")) == "2024-03-01 00:00")
        #expect(EnglishFormatting.date(day("2024-03-31")) == "2024-03-31")
    }
}
