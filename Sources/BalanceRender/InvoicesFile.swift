import BalanceReport
import BalanceModel
import BalanceSupport

extension ReportRenderer {
    /// `P/invoices.csv` (issue 23): each invoice of the partner beside the period, one row per
    /// invoice and billing currency (`InvoiceLine`). Written only for a partner with an invoice, so
    /// runs whose rows name none keep their files. Cells go through the CSV template, neutralised
    /// against formula injection like every other CSV (an `InvoiceId` is text from the data).
    /// Each row names its own currency; the file's is the first row's (a CSV shows no currency sign).
    package func invoicesFile(_ invoices: [InvoiceLine]) throws -> [UInt8] {
        try runTable(templates.invoicesCSV, section: "invoices", invoices, currencies: invoices.first.map { [$0.currency] } ?? []) { line, name in
            switch name {
            case "invoice_id": return .text(line.invoiceID)
            case "currency": return .text(line.currency)
            case "billing_period_start": return line.billingPeriodStart.map { .instant($0) } ?? .text("")
            case "billing_period_end": return line.billingPeriodEnd.map { .instant($0) } ?? .text("")
            case "rows": return .text(String(line.rows))
            case "invoice_total": return .money(line.invoiceTotal)
            case "in_period": return .money(line.inPeriod)
            case "corrections": return .money(line.corrections)
            case "corrections_of": return .text(line.correctedMonths.joined(separator: " "))
            case "outside_period": return .money(line.outsidePeriod)
            case "not_in_report": return .money(line.notInReport)
            case "period_total": return .money(line.periodTotal)
            case "other_rows": return .money(line.otherRows)
            case "difference": return .money(line.difference)
            default: return nil
            }
        }
    }
}

extension SummaryJSON {
    /// `summary.json`'s `invoices`: per partner, the rows of its `invoices.csv`, amounts exact.
    static func invoicesJSON(_ out: JSONWriter, _ reconciliation: InvoiceReconciliation) {
        out.array(reconciliation.partners) { partner in
            out.object {
                out.field("partner_id", partner.partnerID)
                out.key("invoices") {
                    out.array(partner.invoices) { line in
                        out.object {
                            out.field("invoice_id", line.invoiceID)
                            out.field("currency", line.currency)
                            out.field("billing_period_start", line.billingPeriodStart.map(MoscowTime.isoText) ?? "")
                            out.field("billing_period_end", line.billingPeriodEnd.map(MoscowTime.isoText) ?? "")
                            out.field("rows", line.rows)
                            out.field("invoice_total", line.invoiceTotal.description)
                            out.field("in_period", line.inPeriod.description)
                            out.field("corrections", line.corrections.description)
                            out.key("corrections_of") { out.array(line.correctedMonths) { out.value($0) } }
                            out.field("outside_period", line.outsidePeriod.description)
                            out.field("not_in_report", line.notInReport.description)
                            out.field("period_total", line.periodTotal.description)
                            out.field("other_rows", line.otherRows.description)
                            out.field("difference", line.difference.description)
                        }
                    }
                }
            }
        }
    }
}
