import BalanceModel
import BalanceSupport

/// Amounts of a layout whose exporter prints binary floats (`float_amounts: yes`; the built-in
/// `focus` profile): `227.28753400000005`, `889.0600830000001`, `8.0E-7`, `35.2E-7`, `1E+2`.
///
/// The rule, stated once (SPEC §2.1): the decimal text is read exactly, E-notation included, with
/// no `Double` anywhere; a value with more than twelve fractional digits is rounded half to even to
/// twelve (a pico-unit), the only rounding the tool does to money it reads. Every rounded amount is
/// counted and the exact difference (rounded − written) totalled in the run summary
/// (`AmountRounding`), so nothing is lost without a figure saying how much. A valid number is never
/// refused for its digits: only text that is not a number, and magnitudes past a trillion units
/// (the tool's cap for any amount), are errors.
public enum FloatAmountParser {
    /// What reading one amount gave: the rounded amount, and what the rounding dropped.
    public struct Parsed: Sendable, Equatable {
        public var money: Money
        /// The written value was negative (the rounding's sign follows it).
        public var negative: Bool
        /// The pico was rounded up (away from zero).
        public var roundedUp: Bool
        /// The digits past the twelfth fractional digit, trailing zeros trimmed: the dropped
        /// fraction of a pico is `0.` followed by them. Empty: the amount was exact.
        public var dropped: [UInt8]

        public var wasRounded: Bool { !dropped.isEmpty }
    }

    /// Exponents beyond this are refused: every binary64 prints within ±324, and a larger one would
    /// only make the dropped digits endless.
    static let maxExponent = 4_000

    /// Parses `[-]digits[.digits][(e|E)[+|-]digits]` exactly and rounds it to twelve fractional
    /// digits, half to even.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, allowNegative: Bool) throws(FieldError) -> Parsed {
        let count = bytes.count
        if count == 0 { throw FieldError("amount is empty") }
        // Most amounts are plain decimals of at most twelve fractional digits: exact as they are,
        // read by the strict parser without an allocation (this runs on every row of the layout).
        if isPlain(bytes) {
            let money = try AmountParser.parse(bytes, mark: .point, allowNegative: allowNegative)
            return Parsed(money: money, negative: bytes[0] == UInt8(ascii: "-"), roundedUp: false, dropped: [])
        }
        var index = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") {
            guard allowNegative else { throw FieldError("amount must be positive") }
            negative = true
            index = 1
        }
        // The significand's digits, leading zeros dropped (they change nothing), and how many of
        // the digits written came after the point.
        var digits: [UInt8] = []
        var written = 0
        var fractionDigits = 0
        var seenPoint = false
        while index < count {
            let byte = bytes[index]
            if byte >= 0x30 && byte <= 0x39 {
                if !(digits.isEmpty && byte == 0x30) { digits.append(byte - 0x30) }
                written += 1
                if seenPoint { fractionDigits += 1 }
            } else if byte == UInt8(ascii: ".") && !seenPoint {
                if written == 0 { throw FieldError("amount has no digits before the decimal mark") }
                seenPoint = true
            } else {
                break
            }
            index += 1
        }
        if written == 0 { throw FieldError("amount is not a number") }
        if seenPoint && fractionDigits == 0 { throw FieldError("amount has no digits after the decimal mark") }
        var exponent = 0
        if index < count {
            guard bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") else {
                throw FieldError(bytes[index] == UInt8(ascii: ",") ? "amount has a decimal comma, but the decimal mark here is '.'" : "amount is not a number")
            }
            index += 1
            var negativeExponent = false
            if index < count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                negativeExponent = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            var exponentDigits = 0
            while index < count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                exponent = exponent * 10 + Int(bytes[index] - 0x30)
                exponentDigits += 1
                if exponent > maxExponent { throw FieldError("amount's exponent is out of range (at most \(maxExponent))") }
                index += 1
            }
            guard exponentDigits > 0, index == count else { throw FieldError("amount has an exponent that is not a whole number") }
            if negativeExponent { exponent = -exponent }
        }
        // value = int(digits) × 10^(exponent − fractionDigits); in picos, × 10^12 more.
        let shift = exponent - fractionDigits + Money.fractionDigits
        let tooLarge = FieldError("amount is too large")
        if digits.isEmpty { return Parsed(money: .zero, negative: negative, roundedUp: false, dropped: []) }
        var kept: ArraySlice<UInt8>
        var dropped: [UInt8] = []
        var zerosAfter = 0
        if shift >= 0 {
            kept = digits[...]
            zerosAfter = shift
        } else {
            let keep = digits.count + shift
            if keep >= 0 {
                kept = digits[..<keep]
                dropped = Array(digits[keep...])
            } else {
                kept = []
                dropped = [UInt8](repeating: 0, count: -keep) + digits
            }
            while dropped.last == 0 { dropped.removeLast() }
        }
        // A trillion units is 25 digits of picos.
        if kept.count + zerosAfter > 25 { throw tooLarge }
        var picos: Int128 = 0
        for digit in kept { picos = picos * 10 + Int128(digit) }
        for _ in 0..<zerosAfter { picos *= 10 }
        var up = false
        if let first = dropped.first {
            up = first > 5 || (first == 5 && (dropped.count > 1 || picos % 2 == 1))
            if up { picos += 1 }
        }
        if picos > AmountParser.maxPicos { throw tooLarge }
        return Parsed(money: Money(picos: negative ? -picos : picos), negative: negative, roundedUp: up, dropped: dropped)
    }

    /// `[-]digits[.digits]` with at most twelve digits after the point: nothing to round.
    @inline(__always)
    static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = bytes[0] == UInt8(ascii: "-") ? 1 : 0
        var fractionDigits = -1
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= 0x30 && byte <= 0x39 {
                if fractionDigits >= 0 { fractionDigits += 1 }
            } else if byte == UInt8(ascii: ".") && fractionDigits < 0 {
                fractionDigits = 0
            } else {
                return false
            }
            index += 1
        }
        return fractionDigits <= Money.fractionDigits
    }

    public static func parse(_ text: String, allowNegative: Bool = true) throws(FieldError) -> Parsed {
        try text.withUTF8Bytes { (buffer) throws(FieldError) -> Parsed in try parse(buffer, allowNegative: allowNegative) }
    }
}

extension FloatAmountParser {
    /// Counts the rounding of a transaction just decoded (its amount read again: only layouts
    /// with `float_amounts` pay for it).
    /// Counts the rounding of a row's amount under the row's currency (a difference is never
    /// added across currencies).
    static func count<F: SourceFields>(_ fields: F, _ decoder: RecordDecoder, into rounding: inout PerCurrency<AmountRounding>) {
        let signed = decoder.options.signedAmounts
        let parsed: Parsed? = fields.withField(5) { bytes in try? FloatAmountParser.parse(bytes, allowNegative: signed) }
        guard let parsed, !parsed.dropped.isEmpty else { return }
        let currency = fields.withField(6) { $0.isEmpty ? "RUB" : String(decoding: $0, as: UTF8.self) }
        rounding[currency, default: AmountRounding()].add(parsed)
    }
}

extension AmountRounding {
    public mutating func add(_ parsed: FloatAmountParser.Parsed) {
        add(negative: parsed.negative, roundedUp: parsed.roundedUp, dropped: parsed.dropped)
    }
}
