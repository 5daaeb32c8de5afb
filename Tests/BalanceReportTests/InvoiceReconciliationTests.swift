@testable import BalanceTestSupport
@testable import BalanceReport
@testable import BalanceModel
@testable import BalanceSupport
import Testing

/// Issue 23, point 2: each partner's invoices beside the report's period, every figure exact.
@Suite("Report: invoices reconciled with the period")
struct InvoiceReconciliationTests: ModelBuilders {
    /// A September run (FOCUS times are UTC; the period is Moscow time) with invoice facts by id.
    func reconcile(_ transactions: [Transaction], facts: [String: InvoiceFact], clients: [ClientRecord]? = nil,
                   events: [ClientEvent] = [], period: String = "2024-09") throws -> RunReport {
        var input = export(transactions, clients: clients ?? [clientRecord("c1"), clientRecord("c2"), clientRecord("d1", partner: "p2")],
                           events: events)
        for (id, fact) in facts { input.invoices.record(id: id, fact) }
        return try runReport(input, period: period)
    }

    func september(_ invoice: String, correctionOf: String? = nil) -> InvoiceFact {
        InvoiceFact(invoiceID: invoice, billingPeriodStart: at("2024-09-01T00:00:00Z"), billingPeriodEnd: at("2024-10-01T00:00:00Z"),
                    correctionOf: correctionOf.map(at))
    }

    func august(_ invoice: String) -> InvoiceFact {
        InvoiceFact(invoiceID: invoice, billingPeriodStart: at("2024-08-01T00:00:00Z"), billingPeriodEnd: at("2024-09-01T00:00:00Z"))
    }

    func invoiceLine(_ report: RunReport, _ invoice: String, partner: String = "p1",
              sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> InvoiceLine {
        try #require(report.invoices.invoices(of: partner)?.first { $0.invoiceID == invoice }, "no line for \(partner) \(invoice)",
                     sourceLocation: sourceLocation)
    }

    /// Both identities of `InvoiceLine`, on its own figures.
    func expectIdentities(_ line: InvoiceLine, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(line.invoiceTotal == line.inPeriod + line.corrections + line.outsidePeriod + line.notInReport, sourceLocation: sourceLocation)
        #expect(line.periodTotal == line.inPeriod + line.corrections + line.otherRows, sourceLocation: sourceLocation)
        #expect(line.difference == line.outsidePeriod + line.notInReport - line.otherRows, sourceLocation: sourceLocation)
    }

    @Test("the split: rows in the period, a credit, rows past the October edge, the period total beside")
    func split() throws {
        let report = try reconcile([
            tx("s1", "2024-09-05T10:00:00Z", client: "c1", .charge, service: "Compute", "100.123456789012"),
            tx("s2", "2024-09-12T10:00:00Z", client: "c2", .charge, service: "Queue", "0.0000008"),
            tx("s3", "2024-09-15T10:00:00Z", client: "c1", .refund, service: "Compute", "10.50"),
            tx("s4", "2024-09-30T20:59:59Z", client: "c1", .charge, service: "Tax", "24"),
            tx("s5", "2024-09-30T21:00:00Z", client: "c2", .charge, service: "Compute", "9.99"),
        ], facts: ["s1": september("INV-9"), "s2": september("INV-9"), "s3": september("INV-9"), "s4": september("INV-9"),
                   "s5": september("INV-9")])
        let line = try invoiceLine(report, "INV-9")
        #expect(line.rows == 5)
        #expect(line.invoiceTotal == money("123.613457589012"))
        #expect(line.inPeriod == money("113.623457589012"))
        #expect(line.outsidePeriod == money("9.99"))
        #expect(line.corrections == .zero && line.notInReport == .zero && line.otherRows == .zero)
        #expect(line.periodTotal == money("113.623457589012"))
        #expect(line.difference == money("9.99"))
        #expect(line.currency == "RUB")
        #expect(line.billingPeriodStart.map(MoscowTime.isoText) == "2024-09-01T03:00:00+03:00")
        #expect(line.billingPeriodEnd.map(MoscowTime.isoText) == "2024-10-01T03:00:00+03:00")
        expectIdentities(line)
        // The period total is the spend the partner's report shows.
        let shown = try partner(report).totals
        #expect(line.periodTotal == shown.charges - shown.refunds)
    }

    @Test("the September month edge: 31 August 21:30 UTC is September in Moscow (another invoice), 30 September 22:00 UTC is October")
    func monthEdges() throws {
        let report = try reconcile([
            tx("e1", "2024-08-31T21:30:00Z", client: "c1", .charge, service: "Compute", "4.25"),
            tx("e2", "2024-08-31T20:59:59Z", client: "c1", .charge, service: "Compute", "2.00"),
            tx("m1", "2024-09-10T10:00:00Z", client: "c1", .charge, service: "Compute", "50"),
            tx("e3", "2024-09-30T22:00:00Z", client: "c1", .charge, service: "Compute", "3.30"),
        ], facts: ["e1": august("INV-8"), "e2": august("INV-8"), "m1": september("INV-9"), "e3": september("INV-9")])
        let sep = try invoiceLine(report, "INV-9")
        #expect(sep.invoiceTotal == money("53.30") && sep.inPeriod == money("50") && sep.outsidePeriod == money("3.30"))
        #expect(sep.periodTotal == money("54.25") && sep.otherRows == money("4.25"))
        #expect(sep.difference == money("-0.95"))
        expectIdentities(sep)
        let aug = try invoiceLine(report, "INV-8")
        #expect(aug.invoiceTotal == money("6.25") && aug.inPeriod == money("4.25") && aug.outsidePeriod == money("2.00"))
        #expect(aug.otherRows == money("50"))
        expectIdentities(aug)
        #expect(report.invoices.invoices(of: "p1")?.map(\.invoiceID) == ["INV-8", "INV-9"])
    }

    @Test("a correction of an earlier period: its own column with the month it corrects, in the period total, never a difference")
    func correction() throws {
        // Ingest books it at the billing period start (1 September 03:00 Moscow).
        let report = try reconcile([
            tx("c-aug", "2024-09-01T00:00:00Z", client: "c2", .charge, service: "Storage", "2.25"),
            tx("c-jul", "2024-09-01T00:00:00Z", client: "c1", .refund, service: "Compute", "0.333333333333"),
            tx("u1", "2024-09-05T10:00:00Z", client: "c1", .charge, service: "Compute", "10"),
        ], facts: ["c-aug": september("INV-9", correctionOf: "2024-08-20T00:00:00Z"),
                   "c-jul": september("INV-9", correctionOf: "2024-07-15T00:00:00Z"), "u1": september("INV-9")])
        let line = try invoiceLine(report, "INV-9")
        #expect(line.corrections == money("1.916666666667"))
        #expect(line.correctedMonths == ["2024-07", "2024-08"])
        #expect(line.inPeriod == money("10"))
        #expect(line.invoiceTotal == line.periodTotal && line.difference == .zero)
        expectIdentities(line)
        // Every record one outcome: the corrections are accepted, not outside the period.
        #expect(report.summary.outcomes[.transaction]?[.accepted]?.count == 3)
        #expect(report.summary.outcomes[.transaction]?[.outsidePeriod]?.count ?? 0 == 0)
    }

    @Test("a correction that a shorter period does not cover is outside it, like any row")
    func correctionOutsideAShorterPeriod() throws {
        var input = export([
            tx("c-aug", "2024-09-01T00:00:00Z", client: "c1", .charge, service: "Storage", "2.25"),
            tx("u1", "2024-09-15T10:00:00Z", client: "c1", .charge, service: "Compute", "10"),
        ], clients: [clientRecord("c1")])
        input.invoices.record(id: "c-aug", september("INV-9", correctionOf: "2024-08-20T00:00:00Z"))
        input.invoices.record(id: "u1", september("INV-9"))
        let ledger = try Ledger.build(from: input)
        let report = ReportBuilder.build(ledger: ledger, export: input, period: try ReportPeriod.parse(from: "2024-09-10", to: "2024-09-20"))
        let line = try invoiceLine(report, "INV-9")
        #expect(line.corrections == .zero && line.correctedMonths.isEmpty)
        #expect(line.outsidePeriod == money("2.25") && line.inPeriod == money("10"))
        expectIdentities(line)
    }

    @Test("rows on no invoice are only in the period total; a run with no invoice at all reconciles nothing")
    func withoutInvoice() throws {
        let report = try reconcile([
            tx("n1", "2024-09-20T09:00:00Z", client: "c1", .charge, service: "Marketplace", "0.75"),
            tx("n2", "2024-10-20T09:00:00Z", client: "c1", .charge, service: "Marketplace", "5"),
            tx("i1", "2024-09-15T09:00:00Z", client: "c1", .charge, service: "Licenses", "50.5"),
        ], facts: ["i1": september("INV-9"), "n1": InvoiceFact(invoiceID: "")])
        let line = try invoiceLine(report, "INV-9")
        #expect(line.invoiceTotal == money("50.5") && line.periodTotal == money("51.25") && line.otherRows == money("0.75"))
        #expect(report.invoices.partners.map(\.partnerID) == ["p1"])
        expectIdentities(line)

        let none = try reconcile([tx("n1", "2024-09-20T09:00:00Z", client: "c1", .charge, service: "Marketplace", "0.75")], facts: [:])
        #expect(none.invoices.isEmpty)
        // A correction that names no invoice makes no reconciliation either.
        let corrected = try reconcile([tx("n1", "2024-09-01T00:00:00Z", client: "c1", .charge, service: "Compute", "1")],
                                      facts: ["n1": InvoiceFact(invoiceID: "", correctionOf: at("2024-08-02T00:00:00Z"))])
        #expect(corrected.invoices.isEmpty)
    }

    @Test("partners apart: each partner's invoice of the same id is its own, with its own period total")
    func partnersApart() throws {
        let report = try reconcile([
            tx("a1", "2024-09-05T10:00:00Z", client: "c1", .charge, service: "Compute", "7"),
            tx("b1", "2024-09-05T10:00:00Z", client: "d1", .charge, service: "Compute", "11"),
            tx("b2", "2024-09-06T10:00:00Z", client: "d1", .charge, service: "Compute", "1"),
        ], facts: ["a1": september("INV-9"), "b1": september("INV-9")])
        #expect(report.invoices.partners.map(\.partnerID) == ["p1", "p2"])
        #expect(try invoiceLine(report, "INV-9", partner: "p1").periodTotal == money("7"))
        let other = try invoiceLine(report, "INV-9", partner: "p2")
        #expect(other.invoiceTotal == money("11") && other.periodTotal == money("12") && other.otherRows == money("1"))
    }

    @Test("rows the report does not show (a client not attached then) are the invoice's, apart; top-ups are on no invoice")
    func notInReport() throws {
        let report = try reconcile([
            tx("x1", "2024-09-03T10:00:00Z", client: "c1", .charge, service: "Compute", "5"),
            tx("x2", "2024-09-12T10:00:00Z", client: "c1", .charge, service: "Compute", "8"),
            tx("t1", "2024-09-12T11:00:00Z", client: "c1", .topup, "100"),
        ], facts: ["x1": september("INV-9"), "x2": september("INV-9"), "t1": september("INV-9")],
           clients: [clientRecord("c1")],
           events: [ev("c1", "2024-09-01 00:00:00", .invited), ev("c1", "2024-09-10 00:00:00", .confirmed)])
        let line = try invoiceLine(report, "INV-9")
        #expect(line.rows == 2)
        #expect(line.notInReport == money("5") && line.inPeriod == money("8") && line.invoiceTotal == money("13"))
        #expect(line.periodTotal == money("8") && line.difference == money("5"))
        expectIdentities(line)
    }

    @Test("a duplicate row of an overlapping export counts once on its invoice")
    func duplicatesOnce() throws {
        let report = try reconcile([
            tx("d1", "2024-09-05T10:00:00Z", client: "c1", .charge, service: "Compute", "7"),
            tx("d1", "2024-09-05T10:00:00Z", client: "c1", .charge, service: "Compute", "7", file: ModelTestFile.moreTransactions),
        ], facts: ["d1": september("INV-9")])
        let line = try invoiceLine(report, "INV-9")
        #expect(line.rows == 1 && line.invoiceTotal == money("7"))
    }

    @Test("two currencies are never added: an invoice id in two billing currencies is two lines, each with its own period total")
    func currenciesApart() throws {
        let report = try reconcile([
            tx("u1", "2024-09-05T10:00:00Z", client: "c1", .charge, service: "Compute", "10", currency: "USD"),
            tx("e1", "2024-09-06T10:00:00Z", client: "c1", .charge, service: "Compute", "7", currency: "EUR"),
            tx("e2", "2024-09-07T10:00:00Z", client: "c1", .charge, service: "Compute", "1", currency: "EUR"),
            tx("u2", "2024-09-30T22:00:00Z", client: "c1", .charge, service: "Compute", "2", currency: "USD"),
        ], facts: ["u1": september("INV-9"), "e1": september("INV-9"), "u2": september("INV-9")])
        let lines = try #require(report.invoices.invoices(of: "p1"))
        #expect(lines.map(\.currency) == ["EUR", "USD"])
        #expect(lines.map(\.invoiceID) == ["INV-9", "INV-9"])
        let (eur, usd) = (lines[0], lines[1])
        #expect(eur.invoiceTotal == money("7") && eur.periodTotal == money("8") && eur.otherRows == money("1"))
        #expect(usd.invoiceTotal == money("12") && usd.periodTotal == money("10") && usd.outsidePeriod == money("2"))
        expectIdentities(eur)
        expectIdentities(usd)
    }
}
