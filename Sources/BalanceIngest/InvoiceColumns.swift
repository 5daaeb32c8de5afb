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

    /// What a row carries: its fact (`nil` when it names no invoice and corrects nothing) and, for a
    /// correction of an earlier period, the timestamp and description it is booked with.
    struct Row {
        var fact: InvoiceFact?
        /// The billing period start's bytes: a correction sits at the start of the period of the
        /// invoice that carries it, not at the earlier time it corrects.
        var timestamp: [UInt8]? = nil
        var description: [UInt8]? = nil
    }

    static let correction = Array("correction".utf8)

    /// Reads the row. `fields` gives the schema fields (timestamp 1, description 7) as the file has them.
    func read<F: SourceFields>(_ row: CSVRow, _ fields: F, nullTokens: [[UInt8]], options: DecodingOptions) -> Row {
        func bytes(_ column: Int?) -> [UInt8] {
            guard let column else { return [] }
            return row.withField(column) { field in nullTokens.contains { $0.elementsEqual(field) } ? [] : Array(field) }
        }
        func instant(_ text: some Collection<UInt8>) -> Instant? {
            let array = Array(text)
            return array.withUnsafeBufferPointer {
                try? TimestampParser.parse($0, naiveOffsetSeconds: options.naiveOffsetSeconds, format: options.timestampFormat)
            }
        }
        let invoice = bytes(id)
        let startText = bytes(periodStart)
        let chargeClass = bytes(self.chargeClass)
        // ChargeClass is `Correction` in the specification; some exporters write it in lower case.
        let isCorrection = chargeClass.count == InvoiceColumns.correction.count
            && zip(chargeClass, InvoiceColumns.correction).allSatisfy { $0 | 0x20 == $1 }
        guard !invoice.isEmpty || isCorrection else { return Row() }
        var fact = InvoiceFact(invoiceID: String(decoding: invoice, as: UTF8.self),
                               billingPeriodStart: startText.isEmpty ? nil : instant(startText),
                               billingPeriodEnd: periodEnd.flatMap { column in let text = bytes(column); return text.isEmpty ? nil : instant(text) })
        var result = Row()
        // A correction of an earlier period: its charge period starts before the billing period of
        // the invoice that carries it. A correction inside its own billing period stays where it is.
        if isCorrection, let billingStart = fact.billingPeriodStart,
           let charged = fields.withField(1, { instant($0) }), charged < billingStart {
            fact.correctionOf = charged
            result.timestamp = startText
            let month = MoscowTime.date(of: charged)
            var note = Array("Correction of \(month.year)-\(month.month < 10 ? "0" : "")\(month.month) (charge period from \(MoscowTime.isoText(charged)))".utf8)
            let original: [UInt8] = fields.withField(7) { Array($0) }
            if !original.isEmpty { note += Array(": ".utf8) + original }
            result.description = note
        }
        result.fact = fact.invoiceID.isEmpty && !fact.isCorrection ? nil : fact
        return result
    }
}
