import BalanceModel
import BalanceSupport

/// One invoice of a partner in one billing currency beside the report's period (issue 23): what
/// finance needs to see why a partner's September total is not its September invoice.
///
/// Amounts are signed spend, as the invoice adds `BilledCost`: a charge counts +amount, a refund
/// (a credit, a negative `BilledCost`) −amount; top-ups are never on an invoice and never counted.
/// Every figure is exact and two identities hold:
///
///     invoice_total = in_period + corrections + outside_period + not_in_report
///     period_total  = in_period + corrections + other_rows
///
/// so `difference = invoice_total − period_total = outside_period + not_in_report − other_rows`:
/// the invoice's rows at the month edge (charge time outside the report period in Moscow time),
/// less the period's rows that another invoice (or none) carries — typically the previous month's
/// invoice's rows of the first Moscow hours. A correction of an earlier period is booked at the
/// start of the billing period of the invoice that carries it (`InvoiceColumns`), so it is inside
/// any report that covers that start, as it is on that invoice: shown as its own column, not a
/// difference (a shorter period that leaves the start out has it in `outside_period`, like any row).
public struct InvoiceLine: Sendable, Equatable {
    public var invoiceID: String
    public var currency: String
    /// The earliest `BillingPeriodStart` and latest `BillingPeriodEnd` among the invoice's rows.
    public var billingPeriodStart: Instant?
    public var billingPeriodEnd: Instant?
    /// The invoice's rows the ledger kept (duplicates counted once).
    public var rows = 0
    public var invoiceTotal = Money.zero
    /// The invoice's rows the partner's report shows, corrections of earlier periods aside.
    public var inPeriod = Money.zero
    /// Corrections of earlier periods that the report shows (booked in the period).
    public var corrections = Money.zero
    /// The months the corrections correct (`2024-08`, in the export's own time), in order.
    public var correctedMonths: [String] = []
    /// The invoice's rows whose time lies outside the report period: the month edge.
    public var outsidePeriod = Money.zero
    /// The invoice's rows inside the period that no report shows (a client not attached then, or
    /// one no clients record names: its rows count on the partner their row names, and such a
    /// partner without a report has its invoices in `summary.json` only). Zero without a clients file.
    public var notInReport = Money.zero
    /// The partner's spend in the period in this currency: every row its report shows.
    public var periodTotal = Money.zero
    /// The period's rows of the partner on another invoice or on none.
    public var otherRows = Money.zero

    public var difference: Money { invoiceTotal - periodTotal }

    public init(invoiceID: String, currency: String) {
        self.invoiceID = invoiceID
        self.currency = currency
    }
}

/// A partner's invoices, by invoice id bytes, then currency.
public struct PartnerInvoices: Sendable, Equatable {
    public var partnerID: String
    public var invoices: [InvoiceLine]

    public init(partnerID: String, invoices: [InvoiceLine]) {
        self.partnerID = partnerID
        self.invoices = invoices
    }
}

/// The run's invoice reconciliation: empty unless a row names an invoice, so other runs' outputs
/// keep their bytes. Computed from the ledger's table and the invoice facts only (never from a
/// partner's totals), per partner, invoice and currency: two currencies are never added.
public struct InvoiceReconciliation: Sendable, Equatable {
    /// By partner id bytes; only partners with an invoice.
    public var partners: [PartnerInvoices] = []

    public init(partners: [PartnerInvoices] = []) { self.partners = partners }

    public var isEmpty: Bool { partners.isEmpty }

    public func invoices(of partnerID: String) -> [InvoiceLine]? {
        partners.first { $0.partnerID.bytesEqual(partnerID) }?.invoices
    }

    /// Where a row stands for the reconciliation.
    enum Place { case shown, outsidePeriod, notShown }

    public static func build(ledger: Ledger, facts: InvoiceFacts, period: Interval) -> InvoiceReconciliation {
        guard facts.hasInvoices else { return InvoiceReconciliation() }
        let table = ledger.table
        // partner → currency → period total; partner → (invoice, currency) → line.
        var periodTotals: [ByteKey: [ByteKey: Money]] = [:]
        var lines: [ByteKey: [InvoiceKey: InvoiceLine]] = [:]
        var months: [ByteKey: [InvoiceKey: Set<String>]] = [:]

        func take(_ row: Int, partner: ByteKey, place: Place) {
            let kind = table.kind(row)
            guard kind != .topup else { return }
            let spend = kind == .charge ? table.amount(row) : -table.amount(row)
            let currency = table.currencyCode(row)
            if place == .shown { periodTotals[partner, default: [:]][ByteKey(currency), default: .zero] += spend }
            // A row on no invoice is only in the period total (`otherRows`).
            guard let fact = facts.fact(id: table.id(row)), !fact.invoiceID.isEmpty else { return }
            let key = InvoiceKey(invoice: ByteKey(fact.invoiceID), currency: ByteKey(currency))
            var line = lines[partner]?[key] ?? InvoiceLine(invoiceID: fact.invoiceID, currency: currency)
            line.rows += 1
            line.invoiceTotal += spend
            if let start = fact.billingPeriodStart, line.billingPeriodStart.map({ start < $0 }) ?? true { line.billingPeriodStart = start }
            if let end = fact.billingPeriodEnd, line.billingPeriodEnd.map({ $0 < end }) ?? true { line.billingPeriodEnd = end }
            switch place {
            case .shown where fact.isCorrection:
                line.corrections += spend
                months[partner, default: [:]][key, default: []].insert(fact.correctedMonth ?? "")
            case .shown: line.inPeriod += spend
            case .outsidePeriod: line.outsidePeriod += spend
            case .notShown: line.notInReport += spend
            }
            lines[partner, default: [:]][key] = line
        }
        for client in ledger.clients.values {
            let partner = ByteKey(client.record.partnerID)
            for row in client.transactions.rows {
                let instant = table.instant(row)
                let place: Place = !period.contains(instant) ? .outsidePeriod
                    : client.timeline.isAttached(at: instant) ? .shown : .notShown
                take(row, partner: partner, place: place)
            }
        }
        // Rows of clients no clients record names: on the partner their row names, in no report.
        for row in ledger.unknownClientRows {
            let partner = RowPartnerKey.decode(table.clientID(row))?.partner ?? "default"
            take(row, partner: ByteKey(partner), place: period.contains(table.instant(row)) ? .notShown : .outsidePeriod)
        }

        var result = InvoiceReconciliation()
        for partner in lines.keys.sorted() {
            var invoices: [InvoiceLine] = []
            for (key, var line) in lines[partner]!.sorted(by: { $0.key < $1.key }) {
                line.periodTotal = periodTotals[partner]?[key.currency] ?? .zero
                // The period's rows on other invoices or none: the period total less this invoice's.
                line.otherRows = line.periodTotal - line.inPeriod - line.corrections
                line.correctedMonths = (months[partner]?[key] ?? []).sorted()
                invoices.append(line)
            }
            result.partners.append(PartnerInvoices(partnerID: partner.text, invoices: invoices))
        }
        return result
    }

    struct InvoiceKey: Hashable, Comparable {
        var invoice: ByteKey
        var currency: ByteKey
        static func < (a: InvoiceKey, b: InvoiceKey) -> Bool {
            a.invoice != b.invoice ? a.invoice < b.invoice : a.currency < b.currency
        }
    }
}
