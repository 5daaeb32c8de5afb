@testable import BalanceTestSupport
@testable import BalanceRender
@testable import BalanceReport
@testable import BalanceModel
@testable import BalanceSupport
import Foundation
import Synchronization
import Testing

/// Issue 23, point 2: `P/invoices.csv` and `summary.json`'s `invoices`, written only when rows name invoices.
@Suite("Render: invoices beside the period")
struct InvoicesFileTests: ModelBuilders {
    static let header = "invoice_id,currency,billing_period_start,billing_period_end,rows,invoice_total,in_period,corrections,corrections_of,outside_period,not_in_report,period_total,other_rows,difference"

    /// A September report of partners p1 (two invoices, one with a hostile id) and p2 (no invoice).
    func report(invoices: Bool = true) throws -> RunReport {
        var input = export([
            tx("a1", "2024-09-05T10:00:00Z", client: "c1", .charge, service: "Compute", "100.123456789012"),
            tx("a2", "2024-09-01T00:00:00Z", client: "c1", .refund, service: "Compute", "0.333333333333"),
            tx("a3", "2024-09-30T22:00:00Z", client: "c1", .charge, service: "Compute", "3.30"),
            tx("a4", "2024-08-31T21:30:00Z", client: "c1", .charge, service: "Compute", "4.25"),
            tx("b1", "2024-09-06T10:00:00Z", client: "d1", .charge, service: "Compute", "5"),
        ], clients: [clientRecord("c1"), clientRecord("d1", partner: "p2")])
        if invoices {
            let september = (start: at("2024-09-01T00:00:00Z"), end: at("2024-10-01T00:00:00Z"))
            input.invoices.record(id: "a1", InvoiceFact(invoiceID: "INV-9", billingPeriodStart: september.start, billingPeriodEnd: september.end))
            input.invoices.record(id: "a2", InvoiceFact(invoiceID: "INV-9", billingPeriodStart: september.start, billingPeriodEnd: september.end,
                                                        correctionOf: at("2024-07-15T00:00:00Z")))
            input.invoices.record(id: "a3", InvoiceFact(invoiceID: "INV-9", billingPeriodStart: september.start, billingPeriodEnd: september.end))
            input.invoices.record(id: "a4", InvoiceFact(invoiceID: "=HYPERLINK(\"x\";\"y\")"))
        }
        return try runReport(input, period: "2024-09")
    }

    func renderer(_ dialect: CSVDialect = .standard, _ language: ReportLanguage = .en) throws -> ReportRenderer {
        ReportRenderer(templates: try TemplateSet(dialect: dialect, language: language) { BuiltinTemplates.source(language, $0)! }, dialect: dialect)
    }

    func files(_ report: RunReport, _ dialect: CSVDialect = .standard) throws -> [String: [UInt8]] {
        let written = Mutex<[String: [UInt8]]>([:])
        try renderer(dialect).render(report, includeRejects: false) { path, bytes in written.withLock { $0[path] = bytes } }
        return written.withLock { $0 }
    }

    @Test("one row per invoice and currency, exact figures, the data's invoice id neutralised for spreadsheets")
    func csv() throws {
        let files = try files(try report())
        let text = String(decoding: try #require(files["p1/invoices.csv"]), as: UTF8.self)
        #expect(text == """
        \(Self.header)
        "'=HYPERLINK(""x"";""y"")",RUB,,,1,4.25,4.25,0.00,,0.00,0.00,104.040123455679,99.790123455679,-99.790123455679
        INV-9,RUB,2024-09-01T03:00:00+03:00,2024-10-01T03:00:00+03:00,3,103.090123455679,100.123456789012,-0.333333333333,2024-07,3.30,0.00,104.040123455679,4.25,-0.95

        """)
        // p2's rows name no invoice: no file for it.
        #expect(files["p2/invoices.csv"] == nil)
        #expect(files["p2/services.csv"] != nil)
    }

    @Test("the Russian template writes the same rows; the excel-ru dialect its own separators")
    func languagesAndDialects() throws {
        let report = try report()
        let lines = try report.invoices.invoices(of: "p1").map { try renderer(.standard, .ru).invoicesFile($0) }
        let english = try report.invoices.invoices(of: "p1").map { try renderer(.standard, .en).invoicesFile($0) }
        #expect(lines == english)
        let excel = String(decoding: try #require(try files(report, .excelRU)["p1/invoices.csv"]), as: UTF8.self)
        #expect(excel.hasPrefix("\u{FEFF}invoice_id;currency;"))
        #expect(excel.contains("INV-9;RUB;2024-09-01T03:00:00+03:00;2024-10-01T03:00:00+03:00;3;103,090123455679;100,123456789012;-0,333333333333;2024-07;3,30;"))
    }

    @Test("summary.json carries the same figures per partner; a run without invoices has no key and no file")
    func summary() throws {
        let json = try JSONSerialization.jsonObject(with: Data(try #require(try files(try report())["summary.json"]))) as? [String: Any]
        let partners = try #require(json?["invoices"] as? [[String: Any]])
        #expect(partners.map { $0["partner_id"] as? String } == ["p1"])
        let invoices = try #require(partners.first?["invoices"] as? [[String: Any]])
        let september = try #require(invoices.first { $0["invoice_id"] as? String == "INV-9" })
        #expect(september["invoice_total"] as? String == "103.090123455679")
        #expect(september["corrections"] as? String == "-0.333333333333")
        #expect(september["corrections_of"] as? [String] == ["2024-07"])
        #expect(september["outside_period"] as? String == "3.30")
        #expect(september["other_rows"] as? String == "4.25")
        #expect(september["difference"] as? String == "-0.95")
        #expect(september["rows"] as? Int == 3)

        let plain = try files(try report(invoices: false))
        #expect(!plain.keys.contains { $0.hasSuffix("/invoices.csv") })
        let plainJSON = try JSONSerialization.jsonObject(with: Data(try #require(plain["summary.json"]))) as? [String: Any]
        #expect(plainJSON?["invoices"] == nil)
        #expect(!String(decoding: plain["summary.json"]!, as: UTF8.self).contains("invoice"))
    }
}
