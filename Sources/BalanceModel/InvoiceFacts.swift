import BalanceSupport

/// What a FOCUS row says of its invoice (issue 23): `InvoiceId`, `BillingPeriodStart`/`End`, and
/// whether it is a `ChargeClass = Correction` of an earlier invoiced period.
public struct InvoiceFact: Sendable, Equatable {
    /// `InvoiceId` as written (bytes; empty: the row names no invoice, e.g. a correction without one).
    public var invoiceID: String
    public var billingPeriodStart: Instant?
    public var billingPeriodEnd: Instant?
    /// For a correction of an earlier period: the row's own `ChargePeriodStart`, the time it
    /// corrects. The transaction itself sits at `billingPeriodStart` (see `InvoiceColumns`).
    public var correctionOf: Instant?
    /// The month it corrects (`2024-08`), in the export's own time: the time its billing periods
    /// are in (FOCUS: UTC), so 31 August 22:00 UTC corrects August although it is 1 September in Moscow.
    public var correctedMonth: String?

    /// `offsetSeconds`: the export's own offset (FOCUS: UTC), for `correctedMonth`.
    public init(invoiceID: String, billingPeriodStart: Instant? = nil, billingPeriodEnd: Instant? = nil, correctionOf: Instant? = nil,
                offsetSeconds: Int64 = 0) {
        self.invoiceID = invoiceID
        self.billingPeriodStart = billingPeriodStart
        self.billingPeriodEnd = billingPeriodEnd
        self.correctionOf = correctionOf
        correctedMonth = correctionOf.map { InvoiceFact.month(of: $0, offsetSeconds: offsetSeconds) }
    }

    /// `YYYY-MM` of `instant` at `offsetSeconds`.
    public static func month(of instant: Instant, offsetSeconds: Int64) -> String {
        let seconds = instant.seconds + offsetSeconds
        let date = CivilDate(daysSinceEpoch: seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        return String(date.isoText.prefix(7))
    }

    /// Whether this row corrects an earlier invoiced period.
    public var isCorrection: Bool { correctionOf != nil }
}

/// The invoice facts of a run, beside the transaction table and keyed by transaction id bytes.
///
/// A side table rather than a column: most layouts have no invoice, and a column would cost every
/// row of every run (the 1M-row benchmark) memory and time. Keyed by id, not by row number, so the
/// reorderings of the table (the two-core split's `append`, `Supersession`, the ledger's `gather`)
/// need not know about it; an id is unique among the transactions the ledger keeps (an identical
/// repeat is a duplicate, the same id with other facts a conflict), so a kept row finds its fact.
/// Only rows that carry an invoice id or are corrections of an earlier period have an entry, and
/// the rows of one invoice share one fact (`intern`): an entry is an id and a number.
public struct InvoiceFacts: Sendable {
    private(set) var byID: [ByteKey: Int32] = [:]
    /// Distinct facts; `byID` holds indices into it.
    public private(set) var facts: [InvoiceFact] = []
    /// The raw invoice id, billing period start and end of the last fact interned, and its index:
    /// consecutive rows of one invoice are read without parsing their billing period again.
    package var last: (invoice: [UInt8], start: [UInt8], end: [UInt8], index: Int32)? = nil

    public init() {}

    public var isEmpty: Bool { byID.isEmpty }
    public var count: Int { byID.count }
    /// Whether any row names an invoice: only then does a run reconcile invoices (`invoices.csv`).
    public var hasInvoices: Bool { facts.contains { !$0.invoiceID.isEmpty } }

    /// A fact's index, for `record(id:index:)`.
    public mutating func intern(_ fact: InvoiceFact) -> Int32 {
        facts.append(fact)
        return Int32(facts.count - 1)
    }

    /// Records the fact of transaction `id`. The first record of an id wins (file order), as the
    /// ledger keeps the first of identical repeats.
    public mutating func record(id: String, index: Int32) {
        let key = ByteKey(id)
        if byID[key] == nil { byID[key] = index }
    }

    public mutating func record(id: String, _ fact: InvoiceFact) {
        guard byID[ByteKey(id)] == nil else { return }
        record(id: id, index: intern(fact))
    }

    public func fact(id: String) -> InvoiceFact? {
        guard !byID.isEmpty, let index = byID[ByteKey(id)] else { return nil }
        return facts[Int(index)]
    }

    /// Adds the facts of a later part of the input (first wins, as in `record`).
    public mutating func merge(_ later: InvoiceFacts) {
        guard !later.isEmpty else { return }
        if isEmpty { self = later; last = nil; return }
        let offset = Int32(facts.count)
        facts.append(contentsOf: later.facts)
        for (key, index) in later.byID where byID[key] == nil { byID[key] = index + offset }
        last = nil
    }
}
