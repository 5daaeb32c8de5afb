import BalanceReport
import BalanceRender
import BalanceIngest
import BalanceModel
import BalanceSupport

/// A render part's invoices (issue 23), as the Spark route carries them from each partner set's
/// render to `merge-parts`: the figures of `InvoiceReconciliation` as exact decimal text, so that
/// the merged `summary.json` is byte for byte the one a single render writes.
public struct PartInvoices: Codable, Sendable, Equatable {
    public struct Line: Codable, Sendable, Equatable {
        public var invoiceID: String
        public var currency: String
        /// Moscow-time ISO text, as `summary.json` writes it; empty when the rows had none.
        public var billingPeriodStart: String
        public var billingPeriodEnd: String
        public var rows: Int
        /// invoice_total, in_period, corrections, outside_period, not_in_report, period_total, other_rows.
        public var figures: [String]
        public var correctedMonths: [String]
    }

    public var partnerID: String
    public var invoices: [Line]

    static func of(_ reconciliation: InvoiceReconciliation) -> [PartInvoices]? {
        guard !reconciliation.isEmpty else { return nil }
        return reconciliation.partners.map { partner in
            PartInvoices(partnerID: partner.partnerID, invoices: partner.invoices.map { line in
                Line(invoiceID: line.invoiceID, currency: line.currency,
                     billingPeriodStart: line.billingPeriodStart.map(MoscowTime.isoText) ?? "",
                     billingPeriodEnd: line.billingPeriodEnd.map(MoscowTime.isoText) ?? "", rows: line.rows,
                     figures: [line.invoiceTotal, line.inPeriod, line.corrections, line.outsidePeriod, line.notInReport,
                               line.periodTotal, line.otherRows].map(\.description),
                     correctedMonths: line.correctedMonths)
            })
        }
    }

    /// The parts' invoices as one reconciliation. A partner's reports come from one part (the
    /// route sets runs by partner), so its invoices do too: a partner in two parts is refused, as
    /// two parts writing one partner's files are.
    static func merge(_ parts: [SummaryPart]) throws(Diagnostic) -> InvoiceReconciliation {
        var partners: [PartnerInvoices] = []
        var seen = Set<ByteKey>()
        for part in parts {
            for entry in part.invoices ?? [] {
                guard seen.insert(ByteKey(entry.partnerID)).inserted else {
                    throw Diagnostic("two parts both hold invoices of partner \(entry.partnerID): a partner's files belong to one part")
                }
                var lines: [InvoiceLine] = []
                for item in entry.invoices {
                    guard item.figures.count == 7 else { throw Diagnostic("partner \(entry.partnerID): an invoice's figures are seven amounts") }
                    var line = InvoiceLine(invoiceID: item.invoiceID, currency: item.currency)
                    line.billingPeriodStart = try instant(item.billingPeriodStart)
                    line.billingPeriodEnd = try instant(item.billingPeriodEnd)
                    line.rows = item.rows
                    let figures = try item.figures.map { (text: String) throws(Diagnostic) -> Money in try SummaryMerge.money(text) }
                    (line.invoiceTotal, line.inPeriod, line.corrections, line.outsidePeriod, line.notInReport, line.periodTotal, line.otherRows)
                        = (figures[0], figures[1], figures[2], figures[3], figures[4], figures[5], figures[6])
                    line.correctedMonths = item.correctedMonths
                    lines.append(line)
                }
                partners.append(PartnerInvoices(partnerID: entry.partnerID, invoices: lines))
            }
        }
        return InvoiceReconciliation(partners: partners.sorted { byteOrder($0.partnerID, $1.partnerID) })
    }

    static func instant(_ text: String) throws(Diagnostic) -> Instant? {
        guard !text.isEmpty else { return nil }
        do { return try TimestampParser.parse(text) } catch {
            throw Diagnostic("an invoice's billing period '\(text)' is not a time: the part was edited")
        }
    }
}
