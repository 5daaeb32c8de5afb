import BalanceModel
import BalanceSupport
/// Access to one source record's fields in schema order, whatever the file format.
protocol SourceFields {
    /// The bytes of schema field `index` (empty when the source has no such field).
    func withField<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R
}

/// Per-file settings that decide how field text is read.
public struct DecodingOptions: Sendable {
    /// Offset applied to timestamps written without one (SPEC §2.4: +03:00 unless set per run).
    public var naiveOffsetSeconds: Int64
    public var decimalMark: DecimalMark
    /// An import profile's timestamp layout (`nil`: the built-in forms of SPEC §2.4 only).
    public var timestampFormat: TimestampFormat? = nil
    /// An import profile's `signed_amounts`: a negative charge is a refund (a credit) of its
    /// absolute value, a negative refund a charge (FOCUS writes credits as negative `BilledCost`).
    /// The native layout keeps amounts ≥ 0, the type giving the sign.
    public var signedAmounts = false
    /// An import profile's `float_amounts`: amounts as a binary float prints them, read by
    /// `FloatAmountParser` (E-notation, rounded half to even to twelve fractional digits).
    public var floatAmounts = false

    public init(naiveOffsetSeconds: Int64 = MoscowTime.offsetSeconds, decimalMark: DecimalMark = .point) {
        self.naiveOffsetSeconds = naiveOffsetSeconds
        self.decimalMark = decimalMark
    }
}

/// Turns a record's raw fields into a typed record or the reason it is rejected.
struct RecordDecoder {
    var options: DecodingOptions

    init(options: DecodingOptions) { self.options = options }

    /// The decoder for a file read with `ingest` options; the decimal mark depends on the file.
    init(_ ingest: IngestOptions, decimalMark: DecimalMark) {
        options = DecodingOptions(naiveOffsetSeconds: ingest.naiveOffsetSeconds, decimalMark: decimalMark)
        options.timestampFormat = ingest.timestampFormat
        options.signedAmounts = ingest.signedAmounts
        options.floatAmounts = ingest.floatAmounts
    }

    func text<F: SourceFields>(_ fields: F, _ index: Int, _ name: String) throws(FieldError) -> String {
        let value: String? = fields.withField(index) { bytes in validUTF8String(bytes) }
        guard let value else { throw FieldError("\(name) is not valid UTF-8") }
        return value
    }

    func required<F: SourceFields>(_ fields: F, _ index: Int, _ name: String) throws(FieldError) -> String {
        let value = try text(fields, index, name)
        guard !value.isEmpty else { throw FieldError("\(name) is empty") }
        return value
    }

    func instant<F: SourceFields>(_ fields: F, _ index: Int, _ name: String) throws(FieldError) -> Instant {
        let offset = options.naiveOffsetSeconds
        let format = options.timestampFormat
        let result: Result<Instant, FieldError> = fields.withField(index) { bytes in
            Result { () throws(FieldError) -> Instant in try TimestampParser.parse(bytes, naiveOffsetSeconds: offset, format: format) }
        }
        do { return try result.get() } catch { throw FieldError(name == "timestamp" ? error.message : "\(name): \(error.message)") }
    }

    func money<F: SourceFields>(_ fields: F, _ index: Int, _ name: String, allowNegative: Bool) throws(FieldError) -> Money {
        let mark = options.decimalMark
        let float = options.floatAmounts
        let result: Result<Money, FieldError> = fields.withField(index) { bytes in
            Result { () throws(FieldError) -> Money in
                if float { return try FloatAmountParser.parse(bytes, allowNegative: allowNegative).money }
                return try AmountParser.parse(bytes, mark: mark, allowNegative: allowNegative)
            }
        }
        do { return try result.get() } catch { throw FieldError(name == "amount" ? error.message : "\(name): \(error.message)") }
    }

    func isEmpty<F: SourceFields>(_ fields: F, _ index: Int) -> Bool {
        fields.withField(index) { $0.isEmpty }
    }

    // Field positions follow `RecordKind.fields`.
    /// One transaction as a value (tests, and the few paths that want one): the same decoding as
    /// `appendTransaction`, through a table of one row.
    func transaction<F: SourceFields>(_ fields: F, at source: SourceLocation) throws(FieldError) -> Transaction {
        var table = TransactionTable()
        try appendTransaction(fields, at: source, to: &table)
        return table[0]
    }

    /// Decodes a transaction straight into the table's columns: the same checks, in the same order,
    /// as `transaction(_:at:)`, with no `String` made on the way (names are interned from their bytes).
    func appendTransaction<F: SourceFields>(_ fields: F, at source: SourceLocation,
                                            to table: inout TransactionTable) throws(FieldError) {
        try requiredBytes(fields, 0, "id")
        let instant = try self.instant(fields, 1, "timestamp")
        let client: UInt32 = try field(fields, 2) { bytes throws(FieldError) -> UInt32 in
            guard isValidUTF8(bytes) else { throw FieldError("client_id is not valid UTF-8") }
            guard !bytes.isEmpty else { throw FieldError("client_id is empty") }
            return table.clientNumber(bytes)
        }
        var kind: TransactionKind = try field(fields, 3) { bytes throws(FieldError) -> TransactionKind in
            if let kind = TransactionKind(bytes: bytes) { return kind }
            let typeText = try required(fields, 3, "type")
            throw FieldError("unknown type '\(typeText)' (expected topup, charge or refund); an export's own type names are mapped by an import profile (--profile FILE) with transaction_types:, e.g. '\(typeText): charge'")
        }
        let service: UInt32 = try field(fields, 4) { bytes throws(FieldError) -> UInt32 in
            guard isValidUTF8(bytes) else { throw FieldError("service is not valid UTF-8") }
            if kind == .topup && !bytes.isEmpty { throw FieldError("a topup must have an empty service") }
            if kind != .topup && bytes.isEmpty { throw FieldError("a \(kind.rawValue) needs a service") }
            return table.serviceNumber(bytes)
        }
        // Zero is a real line (free usage): accepted, counted, shown.
        var amount = try money(fields, 5, "amount", allowNegative: options.signedAmounts)
        if amount.isNegative {
            switch kind {
            case .topup: throw FieldError("a topup cannot be negative")
            case .charge: kind = .refund
            case .refund: kind = .charge
            }
            amount = amount.magnitude
        }
        let currency: UInt32 = try field(fields, 6) { bytes throws(FieldError) -> UInt32 in
            guard isValidUTF8(bytes) else { throw FieldError("currency is not valid UTF-8") }
            if bytes.isEmpty { return RecordDecoder.rub.withUnsafeBufferPointer { table.currencyNumber($0) } }
            guard CurrencyCode.isValid(bytes) else {
                throw FieldError("currency '\(String(decoding: bytes, as: UTF8.self))' is not a three-letter code")
            }
            return table.currencyNumber(bytes)
        }
        try field(fields, 7) { bytes throws(FieldError) in
            guard isValidUTF8(bytes) else { throw FieldError("description is not valid UTF-8") }
        }
        fields.withField(0) { id in
            fields.withField(7) { description in
                table.append(id: id, instant: instant, client: client, kind: kind, service: service, amount: amount,
                             currency: currency, description: description, source: source)
            }
        }
    }

    static let rub: [UInt8] = Array("RUB".utf8)

    /// `withField` for a body that throws a `FieldError` (`withField` itself only rethrows).
    func field<F: SourceFields, R>(_ fields: F, _ index: Int,
                                   _ body: (UnsafeBufferPointer<UInt8>) throws(FieldError) -> R) throws(FieldError) -> R {
        let result: Result<R, FieldError> = fields.withField(index) { bytes in
            Result { () throws(FieldError) -> R in try body(bytes) }
        }
        return try result.get()
    }

    /// A required text field: valid UTF-8 and not empty (the checks of `required`, without a `String`).
    func requiredBytes<F: SourceFields>(_ fields: F, _ index: Int, _ name: String) throws(FieldError) {
        try field(fields, index) { bytes throws(FieldError) in
            guard isValidUTF8(bytes) else { throw FieldError("\(name) is not valid UTF-8") }
            guard !bytes.isEmpty else { throw FieldError("\(name) is empty") }
        }
    }

    func client<F: SourceFields>(_ fields: F, at source: SourceLocation) throws(FieldError) -> ClientRecord {
        let id = try required(fields, 0, "client_id")
        let name = try text(fields, 1, "name")
        let email = try required(fields, 2, "email")
        guard email.contains("@") else { throw FieldError("email '\(email)' has no @") }
        let phone = try text(fields, 3, "phone")
        var partner = try text(fields, 4, "partner_id")
        if partner.isEmpty { partner = "default" }
        var checkpoint: BalanceCheckpoint? = nil
        let hasBalance = !isEmpty(fields, 5)
        let hasBalanceAt = !isEmpty(fields, 6)
        if hasBalance != hasBalanceAt { throw FieldError("balance and balance_at go together") }
        if hasBalance {
            checkpoint = BalanceCheckpoint(balance: try money(fields, 5, "balance", allowNegative: true),
                                           at: try instant(fields, 6, "balance_at"),
                                           currency: try checkpointCurrency(fields, 7))
        } else if !isEmpty(fields, 7) {
            throw FieldError("balance_currency without a balance")
        }
        return ClientRecord(id: id, name: name, email: email, phone: phone, partnerID: partner,
                            checkpoint: checkpoint, source: source)
    }

    /// `balance_currency`: empty (the client's one currency) or a three-letter code, as `currency`.
    func checkpointCurrency<F: SourceFields>(_ fields: F, _ index: Int) throws(FieldError) -> String? {
        try field(fields, index) { bytes throws(FieldError) -> String? in
            if bytes.isEmpty { return nil }
            guard CurrencyCode.isValid(bytes) else {
                throw FieldError("balance_currency '\(String(decoding: bytes, as: UTF8.self))' is not a three-letter code")
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    func event<F: SourceFields>(_ fields: F, at source: SourceLocation) throws(FieldError) -> ClientEvent {
        let id = try required(fields, 0, "client_id")
        let instant = try self.instant(fields, 1, "timestamp")
        let typeText = try required(fields, 2, "type")
        guard let kind = ClientEventKind(rawValue: typeText) else {
            throw FieldError("unknown event type '\(typeText)' (expected invited, confirmed, blocked, unblocked or removed); an export's own event names are mapped by an import profile (--profile FILE) with event_types:")
        }
        return ClientEvent(clientID: id, instant: instant, kind: kind, source: source)
    }

    /// The amount of a record that is being rejected, when it can still be read (for the control
    /// totals, which add amounts as written, unsigned).
    func salvageAmount<F: SourceFields>(_ fields: F) -> (amount: Money, currency: String)? {
        guard let amount = (try? money(fields, 5, "amount", allowNegative: options.signedAmounts))?.magnitude else { return nil }
        // An amount whose currency cannot be read is no amount of any control total.
        let currency: String? = fields.withField(6) { bytes in
            if bytes.isEmpty { return "RUB" }
            guard CurrencyCode.isValid(bytes) else { return nil }
            return String(decoding: bytes, as: UTF8.self)
        }
        return currency.map { (amount, $0) }
    }
}

/// Whether the bytes are valid UTF-8 (what `String(validating:)` accepts), without making a string.
@inline(__always)
func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var index = 0
    let count = bytes.count
    // ASCII, the common case of ids, codes and most text, eight bytes at a time.
    if let base = bytes.baseAddress {
        let raw = UnsafeRawPointer(base)
        while index + 8 <= count {
            if raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { break }
            index += 8
        }
    }
    while index < count {
        let lead = bytes[index]
        if lead < 0x80 { index += 1; continue }
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return false
        }
        guard index + length <= count else { return false }
        let second = bytes[index + 1]
        guard second >= low && second <= high else { return false }
        for offset in 2..<max(2, length) where bytes[index + offset] & 0xC0 != 0x80 { return false }
        index += length
    }
    return true
}

/// The bytes as a `String`, or `nil` when they are not valid UTF-8. ASCII, the common case of ids
/// and codes, skips the generic validator.
func validUTF8String(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
    if bytes.isEmpty { return "" }
    var ascii = true
    for byte in bytes where byte >= 0x80 {
        ascii = false
        break
    }
    return ascii ? String(decoding: bytes, as: UTF8.self) : String(validating: bytes, as: UTF8.self)
}
