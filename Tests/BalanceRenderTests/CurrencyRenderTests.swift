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

/// A scope whose amounts are in `currency` (`nil`: the enclosing one's).
private struct MoneyScope: CurrencyScope {
    var currency: String?
    var values: [String: TemplateValue]
    func value(_ name: String) -> TemplateValue? { values[name] }
}

/// A table whose rows each have a currency.
private final class MoneyRows: CurrencyRows {
    let amounts: [Money]
    let currencies: [String?]
    init(_ amounts: [Money], _ currencies: [String?]) { self.amounts = amounts; self.currencies = currencies }
    var count: Int { amounts.count }
    var hasRowCurrencies: Bool { true }
    func currency(row: Int) -> String? { currencies[row] }
    func field(_ name: String) -> Int? { name == "amount" ? 0 : nil }
    func value(row: Int, field: Int) -> TemplateValue { .money(amounts[row]) }
}

/// Issue 23: rendering a run of several currencies: the currency amounts are shown in, the rows
/// of a client per currency, the `currency` column only when a run has several, and summary.json.
@Suite("Render: several currencies")
struct CurrencyRenderTests: ModelBuilders {
    static let nbsp = "\u{00A0}"

    func html(_ source: String, _ values: [String: TemplateValue], currency: String = "RUB") throws -> String {
        let template = try Template(name: "t", source: source, contentType: .html)
        return String(decoding: try template.render(DictionaryScope(values: values), currency: currency, language: .ru), as: UTF8.self)
    }

    // MARK: the template engine

    @Test("rows of CurrencyScope show their amounts in their own currency (RUB, then USD)")
    func scopeRowsShowTheirCurrency() throws {
        let scopes = [MoneyScope(currency: "RUB", values: ["amount": .money(money("1234.5"))]),
                      MoneyScope(currency: "USD", values: ["amount": .money(money("10"))]),
                      MoneyScope(currency: nil, values: ["amount": .money(money("2"))])]
        let text = try html("{{#rows}}[{{amount}}]{{/rows}}", ["rows": .rows(count: scopes.count) { scopes[$0] }], currency: "EUR")
        // A scope of no currency keeps the enclosing one (the render's EUR).
        #expect(text == "[1\(Self.nbsp)234,50\(Self.nbsp)₽][10,00\(Self.nbsp)$][2,00\(Self.nbsp)€]")
    }

    @Test("a nested scope's currency holds inside it and ends with it")
    func nestedScope() throws {
        let inner = MoneyScope(currency: "USD", values: ["amount": .money(money("3"))])
        let text = try html("{{#inner}}{{amount}}{{/inner}}|{{amount}}", ["inner": .scope(inner), "amount": .money(money("4"))])
        #expect(text == "3,00\(Self.nbsp)$|4,00\(Self.nbsp)₽")
    }

    @Test("a table of CurrencyRows shows each row in its currency")
    func currencyRowsTable() throws {
        let table = MoneyRows([money("1"), money("2"), money("3")], ["USD", "RUB", nil])
        let text = try html("{{#rows}}{{amount}};{{/rows}}", ["rows": .table(table)], currency: "EUR")
        #expect(text == "1,00\(Self.nbsp)$;2,00\(Self.nbsp)₽;3,00\(Self.nbsp)€;")
    }

    // MARK: a report of several currencies

    /// p1: c1 in RUB and USD, c2 in RUB, c3 in USD and KZT; c4 invited, never confirmed, with RUB money.
    func severalCurrencies() throws -> RunReport {
        try runReport(export([
            tx("a1", "2024-03-01 10:00:00", client: "c1", .topup, "100"),
            tx("a2", "2024-03-02 10:00:00", client: "c1", .charge, service: "vm", "40", currency: "USD"),
            tx("b1", "2024-03-03 10:00:00", client: "c2", .charge, service: "vm", "7"),
            tx("c1", "2024-03-04 10:00:00", client: "c3", .topup, "9", currency: "USD"),
            tx("c2", "2024-03-05 10:00:00", client: "c3", .charge, service: "db", "1000", currency: "KZT"),
            tx("d1", "2024-03-05 10:00:00", client: "c4", .topup, "5"),
        ], clients: ["c1", "c2", "c3", "c4"].map { clientRecord($0) },
        events: ["c1", "c2", "c3", "c4"].map { ev($0, "2024-02-01 10:00:00", .invited) }
            + ["c1", "c2", "c3"].map { ev($0, "2024-02-02 10:00:00", .confirmed) }))
    }

    @Test("clientGroups: one group per client, its entries in currency order")
    func clientGroups() throws {
        let p1 = try partner(try severalCurrencies())
        #expect(p1.clients.map { "\($0.client.id)/\($0.currency)" } == ["c1/RUB", "c1/USD", "c2/RUB", "c3/KZT", "c3/USD", "c4/KZT"])
        #expect(ReportRenderer.clientGroups(p1) == [0..<2, 2..<3, 3..<5, 5..<6])
        #expect(ReportRenderer.clientGroups(PartnerReport(partnerID: "p0", clients: [])) == [])
    }

    func page(_ report: RunReport, _ file: (TemplateSet) -> Template, language: ReportLanguage = .en) throws -> [String] {
        let set = try RepositoryTemplates.set(language)
        let renderer = ReportRenderer(templates: set, dialect: .standard)
        let csv = String(decoding: try renderer.page(file(set), try partner(report), report), as: UTF8.self)
        return csv.split(separator: "\n").map { $0.trimmingCharacters(in: ["\r"]) }
    }

    @Test("snapshot.csv of several currencies: a row per client and currency, the currency column last; none for unseen money")
    func snapshotRows() throws {
        let lines = try page(try severalCurrencies(), \.snapshotCSV)
        #expect(lines.first?.hasSuffix(",runway_days,currency") == true, "\(lines)")
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.map { "\($0[0])/\($0.last!)" } == ["c1/RUB", "c1/USD", "c2/RUB", "c3/KZT", "c3/USD", "c4/"], "\(lines)")
        // c1's two rows keep their own balances: 100 RUB and −40 USD.
        #expect(rows[0][11] == "100.00" && rows[1][11] == "-40.00", "\(lines)")
        // c4 (invited, never confirmed): no currency, empty money columns.
        #expect(rows[5][6...11].allSatisfy { $0.isEmpty }, "\(rows[5])")
    }

    @Test("a run of one currency has no currency column", arguments: ["RUB", "USD"])
    func oneCurrencyNoColumn(_ currency: String) throws {
        let report = try runReport(export([
            tx("a1", "2024-03-01 10:00:00", client: "c1", .topup, "100", currency: currency),
            tx("a2", "2024-03-02 10:00:00", client: "c1", .charge, service: "vm", "40", currency: currency),
        ], clients: [clientRecord("c1")]))
        #expect(!report.isMultiCurrency)
        for file in [\TemplateSet.snapshotCSV, \.servicesCSV, \.dailyCSV] {
            let lines = try page(report, { $0[keyPath: file] })
            #expect(lines.first?.contains("currency") == false, "\(lines)")
        }
        let json = String(decoding: SummaryJSON.encode(report), as: UTF8.self)
        #expect(json.contains("\"currency\": \"\(currency)\""), "\(json)")
        #expect(!json.contains("\"currencies\""))
    }

    @Test("services.csv and daily.csv of several currencies say each row's currency; no amounts are summed across them")
    func spendFiles() throws {
        let report = try severalCurrencies()
        let services = try page(report, \.servicesCSV)
        #expect(services.first?.hasSuffix(",currency") == true, "\(services)")
        // vm is charged in RUB (c2: 7) and USD (c1: 40): two rows, never 47.
        #expect(services.contains { $0.hasPrefix("c1,") && $0.contains(",40.00") && $0.hasSuffix(",USD") }, "\(services)")
        #expect(services.contains { $0.hasPrefix("c2,") && $0.contains(",7.00") && $0.hasSuffix(",RUB") }, "\(services)")
        #expect(!services.joined().contains("47.00"))
        let daily = try page(report, \.dailyCSV)
        #expect(daily.first?.hasSuffix(",currency") == true, "\(daily)")
        #expect(daily.contains { $0.hasPrefix("c3,") && $0.hasSuffix(",KZT") }, "\(daily)")
    }

    @Test("summary.json of several currencies lists them and writes every amount as an object per currency")
    func summaryJSON() throws {
        let report = try severalCurrencies()
        let data = Data(SummaryJSON.encode(report))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["currencies"] as? [String] == ["KZT", "RUB", "USD"])
        #expect(json["currency"] == nil)
        let control = try #require(json["control_totals"] as? [String: Any])
        let accepted = try #require(control["accepted"] as? [String: [String: String]])
        #expect(Set(accepted.keys) == ["KZT", "RUB", "USD"])
        #expect(accepted["RUB"]?["topups"] == "100.00" && accepted["RUB"]?["charges"] == "7.00")
        #expect(accepted["USD"]?["topups"] == "9.00" && accepted["USD"]?["charges"] == "40.00")
        #expect(accepted["KZT"]?["charges"] == "1000.00")
        #expect(control["balanced"] as? Bool == true)
        let records = try #require(json["records"] as? [String: [String: [String: Any]]])
        let outside = try #require(records["transaction"]?["outside_attachment"])
        #expect(outside["count"] as? Int == 1)
        #expect(outside["amounts"] as? [String: String] == ["RUB": "5.00"])
        #expect(outside["amount"] == nil)
    }

    @Test("the client page of a client with money in two currencies has a section per currency", arguments: ReportLanguage.allCases)
    func clientPageSections(_ language: ReportLanguage) throws {
        let report = try severalCurrencies()
        let p1 = try partner(report)
        let set = try RepositoryTemplates.set(language)
        let renderer = ReportRenderer(templates: set, dialect: .standard)
        let group = ReportRenderer.clientGroups(p1)[0]
        let html = String(decoding: try renderer.clientPage(set.clientHTML, p1.clients[group], p1, report), as: UTF8.self)
        let checker = EmailHTMLChecker(html)
        #expect(checker.pageProblems.isEmpty, "\(checker.pageProblems)")
        switch language {
        case .en:
            #expect(checker.text.contains("Account in RUB") && checker.text.contains("Account in USD"), "\(checker.text)")
            #expect(checker.text.contains("USD\(Self.nbsp)40.00") || checker.text.contains("$40.00"), "\(checker.text)")
        case .ru:
            #expect(checker.text.contains("100,00\(Self.nbsp)₽"), "\(checker.text)")
            #expect(checker.text.contains("40,00\(Self.nbsp)$"), "\(checker.text)")
        }
    }
}
