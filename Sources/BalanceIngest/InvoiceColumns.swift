import BalanceModel
import BalanceSupport

/// A profile's `invoices:` (issue 23): the columns that name each row's invoice, its billing
/// period and its charge class (FOCUS `InvoiceId`, `BillingPeriodStart`, `BillingPeriodEnd`,
/// `ChargeClass`). Each column is read where a file has it (by name, or its snake_case spelling)
/// and ignored where it has not: FOCUS 1.0 has no `InvoiceId`, and a layout without any of them
/// costs nothing per row.
public struct InvoiceLayout: Sendable, Equatable {
    public var id: String? = nil
    public var periodStart: String? = nil
    public var periodEnd: String? = nil
    public var chargeClass: String? = nil

    public init(id: String? = nil, periodStart: String? = nil, periodEnd: String? = nil, chargeClass: String? = nil) {
        self.id = id
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.chargeClass = chargeClass
    }
}

/// An `InvoiceLayout` resolved against one file's header.
struct InvoiceColumns: Sendable {
    var id: Int?
    var periodStart: Int?
    var periodEnd: Int?
    var chargeClass: Int?

    /// `nil` when the header has none of the columns that matter: no invoice id, and no charge
    /// class with a billing period start (a correction cannot be told without both).
    init?(_ layout: InvoiceLayout?, header written: [String]) {
        guard let layout else { return nil }
        let normalized = written.map(HeaderMapping.normalize)
        func bare(_ text: String) -> String { text.replacingOccurrences(of: "_", with: "") }
        func find(_ name: String?) -> Int? {
            guard let name else { return nil }
            let wanted = HeaderMapping.normalize(name)
            return normalized.firstIndex(of: wanted) ?? normalized.firstIndex { bare($0) == bare(wanted) }
        }
        id = find(layout.id)
        periodStart = find(layout.periodStart)
        periodEnd = find(layout.periodEnd)
        chargeClass = find(layout.chargeClass)
        guard id != nil || (chargeClass != nil && periodStart != nil) else { return nil }
    }

    /// What a row carries: its fact's index in `InvoiceFacts` (`nil` when it names no invoice and
    /// corrects nothing) and, for a correction of an earlier period, the timestamp and description
    /// it is booked with.
    struct Row {
        var fact: Int32?
        /// The billing period start's bytes: a correction sits at the start of the period of the
        /// invoice that carries it, not at the earlier time it corrects.
        var timestamp: [UInt8]? = nil
        var description: [UInt8]? = nil
    }

    static let correction = Array("correction".utf8)

    /// Reads the row. `fields` gives the schema fields (timestamp 1, description 7) as the file has
    /// them. A row of the same invoice and billing period as the row before shares its fact, with
    /// no parsing; each correction of an earlier period has its own.
    func read<F: SourceFields>(_ row: CSVRow, _ fields: F, nullTokens: [[UInt8]], options: DecodingOptions,
                               into facts: inout InvoiceFacts) -> Row {
        func isNull(_ field: UnsafeBufferPointer<UInt8>) -> Bool {
            field.isEmpty || nullTokens.contains { $0.elementsEqual(field) }
        }
        func bytes(_ column: Int?) -> [UInt8] {
            guard let column else { return [] }
            return row.withField(column) { isNull($0) ? [] : Array($0) }
        }
        func same(_ column: Int?, _ known: [UInt8]) -> Bool {
            guard let column else { return known.isEmpty }
            return row.withField(column) { isNull($0) ? known.isEmpty : $0.elementsEqual(known) }
        }
        func instant(_ text: UnsafeBufferPointer<UInt8>) -> Instant? {
            try? TimestampParser.parse(text, naiveOffsetSeconds: options.naiveOffsetSeconds, format: options.timestampFormat)
        }
        func instant(_ text: [UInt8]) -> Instant? {
            text.isEmpty ? nil : text.withUnsafeBufferPointer { instant($0) }
        }
        // ChargeClass is `Correction` in the specification; some exporters write it in lower case.
        let isCorrection = chargeClass.map { column in
            row.withField(column) { value in
                value.count == InvoiceColumns.correction.count && zip(value, InvoiceColumns.correction).allSatisfy { $0 | 0x20 == $1 }
            }
        } ?? false
        let hasInvoice = id.map { column in row.withField(column) { !isNull($0) } } ?? false
        guard hasInvoice || isCorrection else { return Row() }
        if !isCorrection, let last = facts.last, same(id, last.invoice), same(periodStart, last.start), same(periodEnd, last.end) {
            return Row(fact: last.index)
        }
        let invoice = bytes(id)
        let startText = bytes(periodStart)
        let endText = bytes(periodEnd)
        var fact = InvoiceFact(invoiceID: String(decoding: invoice, as: UTF8.self),
                               billingPeriodStart: instant(startText), billingPeriodEnd: instant(endText))
        var result = Row()
        // A correction of an earlier period: its charge period starts before the billing period of
        // the invoice that carries it. A correction inside its own billing period stays where it is.
        if isCorrection, let billingStart = fact.billingPeriodStart,
           let charged = fields.withField(1, { instant($0) }), charged < billingStart {
            fact = InvoiceFact(invoiceID: fact.invoiceID, billingPeriodStart: billingStart, billingPeriodEnd: fact.billingPeriodEnd,
                               correctionOf: charged, offsetSeconds: options.naiveOffsetSeconds)
            result.timestamp = startText
            var note = Array("Correction of \(fact.correctedMonth!) (charge period from \(MoscowTime.isoText(charged)))".utf8)
            let original: [UInt8] = fields.withField(7) { Array($0) }
            if !original.isEmpty { note += Array(": ".utf8) + original }
            result.description = note
            result.fact = facts.intern(fact)
            return result
        }
        // A correction inside its period is an ordinary row of its invoice; without one, nothing.
        guard hasInvoice else { return Row() }
        let index = facts.intern(fact)
        facts.last = (invoice, startText, endText, index)
        result.fact = index
        return result
    }
}
