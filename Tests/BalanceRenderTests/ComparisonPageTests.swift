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

/// The comparison on the pages: escaped, e-mail-safe, within the summary's 100 KB budget.
@Suite("Render: the comparison on the pages")
struct ComparisonPageTests: ModelBuilders {
    func client(_ id: String, _ name: String, _ services: [(String, String)]) -> PeriodSpend.Client {
        PeriodSpend.Client(id: id, name: name, services: services.map { PeriodSpend.Service(service: $0.0, net: money($0.1)) })
    }

    @Test(arguments: ReportLanguage.allCases)
    func hostileTextInTheComparisonRendersAsText(_ language: ReportLanguage) throws {
        var report = try HTMLStructureTests().hostileReport()
        let gone = "<img src=x onerror=alert(5)>"
        let then = PeriodSpend(period: try ReportPeriod.parse("2024-02"), clients: [
            client(HTMLStructureTests.scriptName, "old name", [("<svg onload=alert(3)>", "1")]),
            client(HTMLStructureTests.attributeBreaker, "x", [(HTMLStructureTests.attributeBreaker, "100")]),
            client(gone, gone, [(gone, "7")]),
        ])
        Comparison.attach(to: &report, previousPeriod: then.period) { _, _ in then }
        let comparison = try #require(report.partners.first?.comparison)
        #expect(comparison.rises.count == 1 && comparison.falls.count == 1 && comparison.goneClients.count == 1 && comparison.newClients.count == 1)
        let pages = try HTMLStructureTests.renderPages(report, language)
        for (path, html) in pages {
            let checker = EmailHTMLChecker(html)
            #expect(checker.pageProblems.isEmpty, "\(language) \(path): \(checker.pageProblems)")
            #expect(!html.contains(gone) && !html.contains(HTMLStructureTests.scriptName) && !html.contains(HTMLStructureTests.attributeBreaker))
        }
        let index = EmailHTMLChecker(try #require(pages.first { $0.key.hasSuffix("/index.html") }?.value)).text
        #expect(index.contains(gone) && index.contains("<svg onload=alert(3)>"), "\(language): the comparison's text is not shown as text")
        #expect(index.contains(language == .ru ? "Изменения с 01.02.2024" : "Change since 2024-02-01"))
        let (rise, fall) = language == .ru ? ("+249,00\u{00A0}₽", "−90,00\u{00A0}₽") : ("+RUB\u{00A0}249.00", "−RUB\u{00A0}90.00")
        #expect(index.contains(rise) && index.contains(fall), "\(language): the rise and the fall")
        let clientPage = try #require(pages.first { $0.key.contains("/clients/") && $0.value.contains(language == .ru ? "Сервисы тогда и сейчас" : "Services then and now") && EmailHTMLChecker($0.value).text.contains("<svg onload=alert(3)>") })
        #expect(EmailHTMLChecker(clientPage.value).text.contains("250"))
    }

    /// The summary of 2,000 clients, with 500 of them new, 1,000 clients gone and every service
    /// changed, still fits: rises and falls are five each, new and gone clients ten each and counted.
    @Test(arguments: ReportLanguage.allCases)
    func theSummaryWithAComparisonStaysUnder100KB(_ language: ReportLanguage) throws {
        let pages = SummaryPageTests()
        var report = try pages.largePartner(2000)
        let partner = try #require(report.partners.first)
        // Every other client spent a kopeck less on each service then (rises), the others 1,000 more (falls).
        var earlier: [PeriodSpend.Client] = partner.clients.enumerated().dropFirst(500).map { n, c in
            PeriodSpend.Client(id: c.client.id, name: c.client.name, services: c.services.map {
                PeriodSpend.Service(service: $0.service, net: $0.net + (n % 2 == 0 ? money("-0.01") : money("1000")))
            } + [PeriodSpend.Service(service: "Removed service", net: money("12.5"))])
        }
        for number in 1...1000 {
            earlier.append(client(String(format: "gone-%05d", number), "ООО «Ушедший клиент \"\(number)\"» & партнёры", [("Compute Cloud", "\(number).5")]))
        }
        let then = PeriodSpend(period: try ReportPeriod.parse("2024-02"), clients: earlier)
        Comparison.attach(to: &report, previousPeriod: then.period) { _, _ in then }
        let comparison = try #require(report.partners.first?.comparison)
        #expect(comparison.newClients.count == 500 && comparison.goneClients.count == 1000)
        #expect(comparison.rises.count == 5 && comparison.falls.count == 5)
        let bytes = try pages.index(report, language)
        print("index.html (\(language)) for 2,000 clients with a comparison: \(bytes.count) bytes")
        #expect(bytes.count < 100_000, "index.html is \(bytes.count) bytes")
        let checker = EmailHTMLChecker(String(decoding: bytes, as: UTF8.self))
        #expect(checker.pageProblems.isEmpty, "\(checker.pageProblems)")
        let html = String(decoding: bytes, as: UTF8.self)
        #expect(Set(html.matches(of: /gone-\d{5}/).map { String($0.output) }).count == ComparisonValues.clientLimit)
        #expect(checker.text.contains("990") && checker.text.contains("490"))
    }
}
