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
import Synchronization
import Testing

@Suite("Email-safe HTML")
struct HTMLStructureTests: ModelBuilders {
    /// Every `.html` under the goldens.
    static func goldenPages() -> [URL] {
        fileTree(GoldenFiles.root).filter { $0.hasSuffix(".html") }.map { GoldenFiles.root.appendingPathComponent($0) }
    }

    @Test func everyGoldenPageIsEmailSafe() throws {
        let pages = HTMLStructureTests.goldenPages()
        #expect(pages.count >= 40, "the goldens hold \(pages.count) pages")
        for page in pages {
            let checker = EmailHTMLChecker(try String(contentsOf: page, encoding: .utf8))
            #expect(checker.pageProblems.isEmpty, "\(page.path.dropFirst(GoldenFiles.root.path.count)): \(checker.pageProblems)")
            if !page.path.contains("/clients/") {
                #expect(checker.elements.contains { $0.name == "th" }, "\(page.lastPathComponent): no table headers")
            }
        }
    }

    @Test func everyGoldenPageStatesMoscowTimeOnce() throws {
        for page in HTMLStructureTests.goldenPages() {
            let html = try String(contentsOf: page, encoding: .utf8)
            let text = EmailHTMLChecker(html).text
            let english = html.contains("<html lang=\"en\">")
            let marker = english ? "Moscow time (UTC+3)" : "МСК (UTC+3)"
            #expect(text.components(separatedBy: marker).count == 2, "\(page.lastPathComponent): '\(marker)' should appear exactly once")
        }
    }

    /// Display amounts are rounded, balances exact: every page that shows money says so once, and
    /// no page shows a non-zero charge as a bare zero (an amount under half a kopeck is written exactly).
    @Test func everyGoldenPageWithMoneySaysHowItRoundsOnce() throws {
        var pagesWithMoney = 0
        for page in HTMLStructureTests.goldenPages() {
            let html = try String(contentsOf: page, encoding: .utf8)
            let text = EmailHTMLChecker(html).text
            let english = html.contains("<html lang=\"en\">")
            let marker = english ? "Amounts are rounded to the kopeck (cent) while balances are computed from the exact amounts"
                                 : "Суммы округлены до копеек, а балансы посчитаны по точным суммам"
            // An amount in any currency the pages write: `1 234,56 ₽`, `RUB 1,234.56`, `KZT 5,400.00`, `$1,234.56`, `€12.50`.
            let hasMoney = text.contains(/(\d,\d\d\x{00A0}(₽|\$|€|[A-Z]{3}))|(([A-Z]{3}\x{00A0}|\$|€)\d)/)
            if hasMoney { pagesWithMoney += 1 }
            #expect(text.components(separatedBy: marker).count == (hasMoney ? 2 : 1), "\(page.lastPathComponent): the rounding note should appear \(hasMoney ? "once" : "not at all")")
            let negativeZero = english ? text.contains(/\x{2212}(RUB\x{00A0}|\$|€)0\.00(?![0-9])/) : text.contains("\u{2212}0,00\u{00A0}")
            #expect(!negativeZero, "\(page.lastPathComponent): a negative zero")
        }
        #expect(pagesWithMoney >= 30)
        // The sample's charge of 0.004167 on cl-1001 is shown as it is, with its minus.
        let client = EmailHTMLChecker(try String(contentsOf: GoldenFiles.root.appendingPathComponent("sample-2024-03/alfa-cloud/clients/cl-1001.html"),
                                                 encoding: .utf8)).text
        #expect(client.contains("\u{2212}0,004167\u{00A0}₽"))
    }

    /// At 375 px the snapshot used to hide its opening, top-ups and refunds columns. Now a narrow
    /// screen hides only the column header row, and every amount cell carries its own label, so
    /// every column stays readable; the page ends with the partner's totals.
    @Test func theSnapshotKeepsEveryColumnOnANarrowScreen() throws {
        let pages = HTMLStructureTests.goldenPages().filter { $0.lastPathComponent == "snapshot.html" }
        #expect(pages.count >= 2)
        for page in pages {
            let html = try String(contentsOf: page, encoding: .utf8)
            let name = String(page.path.dropFirst(GoldenFiles.root.path.count))
            // The classes a narrow screen hides.
            let media = try #require(html.range(of: "@media (max-width: 480px)"), "\(name): no narrow-screen rules")
            let rules = html[media.upperBound...].prefix(while: { $0 != "<" })
            let hidden = rules.matches(of: /\.([a-z]+) \{ display: none/).map { String($0.output.1) }
            #expect(hidden == ["wide"], "\(name): a narrow screen hides \(hidden)")
            let checker = EmailHTMLChecker(html)
            func classes(_ element: EmailHTMLChecker.Element) -> [String] {
                (element.attributes.first { $0.name == "class" }?.value ?? "").split(separator: " ").map(String.init)
            }
            for element in checker.elements where classes(element).contains("wide") {
                #expect(element.name == "tr", "\(name): a <\(element.name)> is hidden on a narrow screen")
            }
            let cells = checker.elements.filter { $0.name == "td" && classes($0).contains("cell") }.count
            let labels = checker.elements.filter { $0.name == "span" && classes($0).contains("lbl") }.count
            #expect(cells > 0 && cells == labels, "\(name): \(cells) amount cells, \(labels) labels")
            let english = html.contains("<html lang=\"en\">")
            #expect(checker.text.contains(english ? "Totals" : "Итого"), "\(name): no totals row")
        }
    }

    /// The checker itself: each of these must be caught.
    @Test(arguments: [
        "<p><b>unbalanced</p></b>",
        "<table><tr><td>never closed</td></tr>",
        "<td width=100>unquoted</td>",
        "<script>alert(1)</script>",
        "<p onclick=\"x()\">handler</p>",
        "<p ONMOUSEOVER='x'>handler</p>",
        "<a href=\"https://example.com\">link</a>",
        "<td style=\"background:url(//cdn.example/x.png)\">bg</td>",
        "<table background=\"https://cdn.example/bg.png\"><tr><td>bg</td></tr></table>",
        "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
        "<img src=\"x.png\">",
        "<style>@import 'https://fonts.example/css';</style>",
        "<p>text with a bare < sign</p>",
        "<th>no scope</th>",
        "<!--[if mso]><v:rect href=\"http://x\"><![endif]-->",
    ])
    func theCheckerCatches(_ html: String) {
        #expect(!EmailHTMLChecker(html).problems.isEmpty, "not caught: \(html)")
    }

    @Test func theCheckerAcceptsCleanMarkup() {
        let checker = EmailHTMLChecker("<!DOCTYPE html>\n<table width=\"100%\"><tr><th scope=\"col\" nowrap>A &amp; B</th></tr></table><br><p title='x'>y</p>")
        #expect(checker.problems.isEmpty, "\(checker.problems)")
        #expect(checker.text.contains("A & B"))
    }

    /// `Templates/en` is a translation of `Templates/ru`: the same files, the same tags in the same
    /// order (only the words differ), so a change to one language cannot silently miss the other.
    @Test func bothLanguagesHaveTheSameTemplatesAndTags() throws {
        func tags(_ language: String, _ file: String) throws -> [String] {
            let url = Repository.root.appendingPathComponent("Templates/\(language)/\(file)")
            let text = try String(contentsOf: url, encoding: .utf8)
            return text.matches(of: /\{\{([^}]*)\}\}/).map { String($0.output.1) }.filter { !$0.hasPrefix("!") }
        }
        for file in TemplateSet.fileNames + [EmailOptions.textTemplateName] {
            #expect(try tags("ru", file) == tags("en", file), "\(file): the tags differ between ru and en")
        }
        for language in ReportLanguage.allCases {
            _ = try RepositoryTemplates.set(language)
            let text = try String(contentsOf: Repository.root.appendingPathComponent("Templates/\(language.rawValue)/\(EmailOptions.textTemplateName)"),
                                  encoding: .utf8)
            _ = try EmailOptions.compileTextTemplate(text)
        }
    }

    // MARK: Hostile data

    /// The elements the shipped templates write; anything else in a page came from the data.
    static let templateElements: Set = ["html", "head", "meta", "title", "style", "body", "div", "table", "thead", "tbody",
                                        "tr", "th", "td", "h1", "h2", "p", "span", "br", "strong", "small", "a"]
    static let scriptName = "<script>alert(1)</script>"
    static let attributeBreaker = "\" onmouseover=\"x"
    static let singleQuoteBreaker = "' onfocus='y"

    /// A partner whose every text field tries to break out: names, ids, contacts, services, descriptions.
    func hostileReport() throws -> RunReport {
        let partner = HTMLStructureTests.attributeBreaker + "<b>"
        var one = clientRecord(HTMLStructureTests.scriptName, partner: partner, name: HTMLStructureTests.scriptName)
        one.email = HTMLStructureTests.attributeBreaker + "@evil.example"
        one.phone = HTMLStructureTests.singleQuoteBreaker
        var two = clientRecord(HTMLStructureTests.attributeBreaker, partner: partner, name: HTMLStructureTests.attributeBreaker)
        two.phone = "<img src=x onerror=alert(2)>"
        var three = clientRecord("c3", partner: partner, name: HTMLStructureTests.singleQuoteBreaker)
        three.email = "<style>@import url(//x)</style>"
        let service = "<svg onload=alert(3)>"
        return try runReport(export([
            tx("t1", "2024-03-02 10:00:00", client: one.id, .topup, "100", description: HTMLStructureTests.scriptName),
            tx("t2", "2024-03-03 10:00:00", client: one.id, .charge, service: service, "250", description: HTMLStructureTests.attributeBreaker),
            tx("t3", "2024-03-04 10:00:00", client: two.id, .charge, service: HTMLStructureTests.attributeBreaker, "10"),
            tx("t4", "2024-03-05 10:00:00", client: three.id, .charge, service: HTMLStructureTests.singleQuoteBreaker, "5",
               description: "javascript:alert(4) https://evil.example"),
        ], clients: [one, two, three], events: [
            ev(one.id, "2024-01-01 00:00:00", .invited), ev(one.id, "2024-01-02 00:00:00", .confirmed),
            ev(two.id, "2024-01-01 00:00:00", .invited), ev(two.id, "2024-01-02 00:00:00", .confirmed),
            ev(two.id, "2024-03-10 00:00:00", .blocked),
            ev(three.id, "2024-01-01 00:00:00", .invited), ev(three.id, "2024-01-02 00:00:00", .confirmed),
            ev(three.id, "2024-03-20 00:00:00", .removed),
        ]))
    }


    static func renderPages(_ report: RunReport, _ language: ReportLanguage) throws -> [String: String] {
        let renderer = ReportRenderer(templates: try RepositoryTemplates.set(language), dialect: .standard)
        let files = Mutex<[String: String]>([:])
        try renderer.render(report, includeRejects: false) { path, bytes in
            if path.hasSuffix(".html") { files.withLock { $0[path] = String(decoding: bytes, as: UTF8.self) } }
        }
        return files.withLock { $0 }
    }

    @Test(arguments: ReportLanguage.allCases)
    func hostileTextRendersAsTextInEveryTemplate(_ language: ReportLanguage) throws {
        let report = try hostileReport()
        let pages = try HTMLStructureTests.renderPages(report, language)
        // index, snapshot and one page per client.
        #expect(pages.count == 5, "\(pages.keys.sorted())")
        for (path, html) in pages {
            let checker = EmailHTMLChecker(html)
            #expect(checker.pageProblems.isEmpty, "\(language) \(path): \(checker.pageProblems)")
            let injected = Set(checker.elements.map(\.name)).subtracting(HTMLStructureTests.templateElements)
            #expect(injected.isEmpty, "\(language) \(path): elements no template writes: \(injected.sorted())")
            #expect(!html.contains(HTMLStructureTests.scriptName) && !html.contains(HTMLStructureTests.attributeBreaker)
                    && !html.contains(HTMLStructureTests.singleQuoteBreaker), "\(language) \(path): raw hostile text")
            // What the reader sees is the text itself.
            #expect(checker.text.contains(HTMLStructureTests.attributeBreaker + "<b>"), "\(language) \(path): the partner id is not shown as text")
        }
        let index = EmailHTMLChecker(try #require(pages.first { $0.key.hasSuffix("/index.html") }?.value)).text
        let snapshot = EmailHTMLChecker(try #require(pages.first { $0.key.hasSuffix("/snapshot.html") }?.value)).text
        for name in [HTMLStructureTests.scriptName, HTMLStructureTests.attributeBreaker, HTMLStructureTests.singleQuoteBreaker] {
            #expect(index.contains(name), "\(language) index.html: '\(name)' is not shown as text")
            #expect(snapshot.contains(name), "\(language) snapshot.html: '\(name)' is not shown as text")
        }
        #expect(index.contains("<svg onload=alert(3)>"), "\(language) index.html: the service name is not shown as text")
        #expect(snapshot.contains("<img src=x onerror=alert(2)>") && snapshot.contains("<style>@import url(//x)</style>"))
        let clientPages = pages.filter { $0.key.contains("/clients/") }.map { EmailHTMLChecker($0.value).text }
        #expect(clientPages.contains { $0.contains(HTMLStructureTests.scriptName) && $0.contains("<svg onload=alert(3)>") && $0.contains(HTMLStructureTests.attributeBreaker) })
        #expect(clientPages.contains { $0.contains("javascript:alert(4) https://evil.example") })
    }

    /// Attribute contexts: every text name of the partner, client and transaction scopes, written
    /// into double- and single-quoted attributes of a template, stays inside its attribute.
    @Test(arguments: ReportLanguage.allCases)
    func hostileTextStaysInsideAttributes(_ language: ReportLanguage) throws {
        let report = try hostileReport()
        let partner = try #require(report.partners.first)
        let names = ["client_id", "name", "email", "phone", "partner_id"]
        var source = "<div>{{#clients}}"
        for name in names { source += "<p data-\(name.replacingOccurrences(of: "_", with: "-"))=\"{{\(name)}}\" title='{{\(name)}}'>x</p>" }
        source += "{{/clients}}{{#services}}<p data-service=\"{{service}}\" title='{{service}}'>x</p>{{/services}}</div>"
        var set = try RepositoryTemplates.set(language)
        set.partnerIndex = try Template(name: "attributes.html", source: source, contentType: .html)
        set.clientHTML = try Template(name: "attributes.html", source:
            "<div>{{#transactions}}<p data-description=\"{{description}}\" title='{{service}}'>x</p>{{/transactions}}</div>", contentType: .html)
        let renderer = ReportRenderer(templates: set, dialect: .standard)
        let index = EmailHTMLChecker(String(decoding: try renderer.page(set.partnerIndex, partner, report), as: UTF8.self))
        #expect(index.problems.isEmpty, "\(index.problems)")
        let paragraphs = index.elements.filter { $0.name == "p" }
        #expect(paragraphs.count == partner.clients.count * names.count + partner.services.count)
        for paragraph in paragraphs {
            #expect(paragraph.attributes.count == 2, "an attribute broke out: \(paragraph.attributes)")
            #expect(paragraph.attributes[0].value == paragraph.attributes[1].value, "the two quotings read differently: \(paragraph.attributes)")
        }
        let values = Set(paragraphs.map { $0.attributes[0].value })
        for hostile in [HTMLStructureTests.scriptName, HTMLStructureTests.attributeBreaker, HTMLStructureTests.singleQuoteBreaker,
                        HTMLStructureTests.attributeBreaker + "<b>", "<svg onload=alert(3)>"] {
            #expect(values.contains(hostile), "'\(hostile)' does not come back from an attribute")
        }
        for client in partner.clients where !client.detail.isEmpty {
            let page = EmailHTMLChecker(String(decoding: try renderer.clientPage(set.clientHTML, [client], partner, report), as: UTF8.self))
            #expect(page.problems.isEmpty, "\(page.problems)")
            for paragraph in page.elements where paragraph.name == "p" {
                #expect(paragraph.attributes.count == 2, "an attribute broke out: \(paragraph.attributes)")
            }
        }
    }
}
