import BalanceModel
import BalanceSupport
/// Why a field could not be decoded; becomes the reason of a `file:line: reason` rejection.
public struct FieldError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Which characters an amount may use as its decimal mark.
public enum DecimalMark: Sendable {
    /// `1234.56` only: the mark of `,`-delimited files and XML.
    case point
    /// `1234,56` or `1234.56`: `;`-delimited files, where a comma cannot be a delimiter.
    case pointOrComma
    /// `1234,56` only: an import profile's `decimal_mark: ","`. A `.` is then an error, never
    /// taken for a decimal point or a thousands separator.
    case comma
}

/// Exact decimal parsing of amounts, byte by byte (`Decimal(string:)` silently accepts `12,50` as 12).
public enum AmountParser {
    /// Largest accepted magnitude: one trillion units, far below what the sums can hold.
    public static let maxPicos: Int128 = 1_000_000_000_000 * Money.scale

    /// Parses `[-]digits[(.|,)digits]` with up to twelve fractional digits; a thirteenth is
    /// refused, never rounded.
    /// Groups of three digits separated by a space or a no-break space are accepted (`1 234,56`).
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, mark: DecimalMark, allowNegative: Bool) throws(FieldError) -> Money {
        var index = 0
        let count = bytes.count
        if count == 0 { throw FieldError("amount is empty") }
        var negative = false
        if bytes[0] == UInt8(ascii: "-") {
            guard allowNegative else { throw FieldError("amount must be positive") }
            negative = true
            index = 1
        }
        var whole: Int128 = 0
        var wholeDigits = 0
        var digitsSinceGroup = 0
        var grouped = false
        var fraction: Int128 = 0
        var fractionDigits = 0
        var seenMark = false
        while index < count {
            let byte = bytes[index]
            if byte >= 0x30 && byte <= 0x39 {
                let digit = Int128(byte - 0x30)
                if seenMark {
                    fractionDigits += 1
                    if fractionDigits > Money.fractionDigits { throw FieldError("amount has more than \(Money.fractionDigits) fractional digits") }
                    fraction = fraction * 10 + digit
                } else {
                    whole = whole * 10 + digit
                    wholeDigits += 1
                    digitsSinceGroup += 1
                    if whole > maxPicos { throw FieldError("amount is too large") }
                }
                index += 1
            } else if !seenMark && ((byte == UInt8(ascii: ".") && mark != .comma) || (byte == UInt8(ascii: ",") && mark != .point)) {
                if wholeDigits == 0 { throw FieldError("amount has no digits before the decimal mark") }
                if grouped && digitsSinceGroup != 3 { throw FieldError("amount has a misplaced digit group") }
                seenMark = true
                index += 1
            } else if !seenMark && wholeDigits > 0 && (byte == 0x20 || byte == 0xC2) {
                // Digit grouping: a space or a no-break space (C2 A0) before exactly three digits.
                if byte == 0xC2 {
                    guard index + 1 < count, bytes[index + 1] == 0xA0 else { throw FieldError("amount is not a number") }
                    index += 2
                } else {
                    index += 1
                }
                if (grouped && digitsSinceGroup != 3) || (!grouped && digitsSinceGroup > 3) {
                    throw FieldError("amount has a misplaced digit group")
                }
                grouped = true
                digitsSinceGroup = 0
            } else {
                throw FieldError(AmountParser.reason(rejecting: byte, seenMark: seenMark, mark: mark))
            }
        }
        if wholeDigits == 0 { throw FieldError("amount is not a number") }
        if grouped && digitsSinceGroup != 3 && !seenMark { throw FieldError("amount has a misplaced digit group") }
        if seenMark && fractionDigits == 0 { throw FieldError("amount has no digits after the decimal mark") }
        for _ in fractionDigits..<Money.fractionDigits { fraction *= 10 }
        let picos = whole * Money.scale + fraction
        if picos > maxPicos { throw FieldError("amount is too large") }
        return Money(picos: negative ? -picos : picos)
    }

    /// Why a byte cannot stand where it does: marks that would make the amount ambiguous are named.
    static func reason(rejecting byte: UInt8, seenMark: Bool, mark: DecimalMark) -> String {
        let isMark = byte == UInt8(ascii: ".") || byte == UInt8(ascii: ",")
        if isMark && seenMark { return "amount has a second decimal mark or a '.'/',' digit group (only spaces group digits)" }
        if byte == UInt8(ascii: ",") && mark == .point { return "amount has a decimal comma, but the decimal mark here is '.'" }
        if byte == UInt8(ascii: ".") && mark == .comma { return "amount has a '.', but the profile's decimal mark is ','" }
        if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { return "amount is not a number (no exponents: write the digits out)" }
        return "amount is not a number"
    }

    public static func parse(_ text: String, mark: DecimalMark, allowNegative: Bool = false) throws(FieldError) -> Money {
        try text.withUTF8Bytes { (buffer) throws(FieldError) -> Money in
            try parse(buffer, mark: mark, allowNegative: allowNegative)
        }
    }
}

/// Timestamps in every form SPEC §2.4 accepts, parsed to an `Instant` with real range checks
/// (`2024-02-30` and `24:00:01` are errors, not rolled over).
public enum TimestampParser {
    /// Parses ISO 8601 with or without offset (`T` or space), `DD.MM.YYYY HH:MM:SS` and integer
    /// Unix seconds. Forms without an offset are read in `naiveOffsetSeconds`.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, naiveOffsetSeconds: Int64) throws(FieldError) -> Instant {
        var cursor = Cursor(bytes: bytes)
        if bytes.isEmpty { throw FieldError("timestamp is empty") }
        if bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) || (bytes[0] == UInt8(ascii: "-") && bytes.count > 1 && bytes.dropFirst().allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })) {
            return try unixSeconds(bytes)
        }
        let date: CivilDate
        if bytes.count >= 10 && bytes[2] == UInt8(ascii: ".") && bytes[5] == UInt8(ascii: ".") {
            let day = try cursor.digits(2)
            try cursor.expect(".")
            let month = try cursor.digits(2)
            try cursor.expect(".")
            let year = try cursor.digits(4)
            date = CivilDate(year: year, month: month, day: day)
        } else {
            let year = try cursor.digits(4)
            try cursor.expect("-")
            let month = try cursor.digits(2)
            try cursor.expect("-")
            let day = try cursor.digits(2)
            date = CivilDate(year: year, month: month, day: day)
        }
        guard date.isValid else { throw FieldError("timestamp has an impossible date") }
        guard cursor.index < bytes.count, bytes[cursor.index] == UInt8(ascii: "T") || bytes[cursor.index] == UInt8(ascii: " ") else {
            throw FieldError("timestamp has no time of day")
        }
        cursor.index += 1
        let hour = try cursor.digits(2)
        try cursor.expect(":")
        let minute = try cursor.digits(2)
        guard cursor.index < bytes.count, bytes[cursor.index] == UInt8(ascii: ":") else {
            // `2024-03-05 10:00`: the commonest near miss (Excel drops the seconds), so say what is accepted.
            throw FieldError("timestamp has no seconds (accepted: 2024-03-05T10:00:00+03:00, 2024-03-05 10:00:00, 05.03.2024 10:00:00, Unix seconds; another layout needs timestamp_format in an import profile)")
        }
        cursor.index += 1
        let second = try cursor.digits(2)
        guard hour <= 23, minute <= 59, second <= 59 else { throw FieldError("timestamp has an impossible time of day") }
        var nanoseconds: Int32 = 0
        var fractionDigits: Int8 = 0
        if cursor.index < bytes.count, bytes[cursor.index] == UInt8(ascii: ".") || bytes[cursor.index] == UInt8(ascii: ",") {
            cursor.index += 1
            var value: Int32 = 0
            while cursor.index < bytes.count, bytes[cursor.index] >= 0x30, bytes[cursor.index] <= 0x39 {
                guard fractionDigits < 9 else { throw FieldError("timestamp has more than 9 fractional digits") }
                value = value * 10 + Int32(bytes[cursor.index] - 0x30)
                fractionDigits += 1
                cursor.index += 1
            }
            guard fractionDigits > 0 else { throw FieldError("timestamp has an empty fraction") }
            for _ in Int(fractionDigits)..<9 { value *= 10 }
            nanoseconds = value
        }
        var offset = naiveOffsetSeconds
        if cursor.index < bytes.count {
            offset = try parseOffset(&cursor)
        }
        guard cursor.index == bytes.count else { throw FieldError("timestamp has unexpected trailing text") }
        let local = date.daysSinceEpoch * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return try inRange(Instant(seconds: local - offset, nanoseconds: nanoseconds, fractionDigits: fractionDigits))
    }

    /// The first and last second whose Moscow date is 0001-01-01 … 9999-12-31: the days a report
    /// can name. `9999-12-31T23:00:00Z` is already 10000-01-01 in Moscow, and a negative Unix time
    /// can fall before year 1; such instants once crashed the run that printed their date (found
    /// by fuzzing, kept in Fixtures/fuzz-regressions/).
    public static let earliestSeconds: Int64 = -62_135_596_800 - MoscowTime.offsetSeconds
    public static let latestSeconds: Int64 = 253_402_300_800 - MoscowTime.offsetSeconds - 1

    static func inRange(_ instant: Instant) throws(FieldError) -> Instant {
        guard instant.seconds >= earliestSeconds && instant.seconds <= latestSeconds else {
            throw FieldError("timestamp is out of range (Moscow dates 0001-01-01 to 9999-12-31)")
        }
        return instant
    }

    public static func parse(_ text: String, naiveOffsetSeconds: Int64 = MoscowTime.offsetSeconds) throws(FieldError) -> Instant {
        try text.withUTF8Bytes { (buffer) throws(FieldError) -> Instant in
            try parse(buffer, naiveOffsetSeconds: naiveOffsetSeconds)
        }
    }

    /// `Z`, `±HH:MM`, `±HHMM` or `±HH`.
    static func parseOffset(_ cursor: inout Cursor) throws(FieldError) -> Int64 {
        let sign = cursor.bytes[cursor.index]
        if sign == UInt8(ascii: "Z") || sign == UInt8(ascii: "z") {
            cursor.index += 1
            return 0
        }
        guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else {
            throw FieldError("timestamp has unexpected trailing text")
        }
        cursor.index += 1
        let hours = try cursor.digits(2)
        var minutes = 0
        if cursor.index < cursor.bytes.count {
            if cursor.bytes[cursor.index] == UInt8(ascii: ":") { cursor.index += 1 }
            minutes = try cursor.digits(2)
        }
        guard hours <= 18, minutes <= 59 else { throw FieldError("timestamp has an impossible offset") }
        let seconds = Int64(hours * 3600 + minutes * 60)
        return sign == UInt8(ascii: "-") ? -seconds : seconds
    }

    /// Offsets as the `--input-offset` option writes them: `+03:00`, `-0500`, `Z`.
    public static func parseOffset(_ text: String) throws(FieldError) -> Int64 {
        try text.withUTF8Bytes { (buffer) throws(FieldError) -> Int64 in
            var cursor = Cursor(bytes: buffer)
            guard !buffer.isEmpty else { throw FieldError("offset is empty") }
            let offset = try parseOffset(&cursor)
            guard cursor.index == buffer.count else { throw FieldError("offset has unexpected trailing text") }
            return offset
        }
    }

    static func unixSeconds(_ bytes: UnsafeBufferPointer<UInt8>) throws(FieldError) -> Instant {
        var value: Int64 = 0
        var negative = false
        for (position, byte) in bytes.enumerated() {
            if position == 0 && byte == UInt8(ascii: "-") { negative = true; continue }
            value = value * 10 + Int64(byte - 0x30)
            // Year 9999 ends before 253,402,300,800.
            if value > 253_402_300_799 { throw FieldError("timestamp is out of range") }
        }
        return try inRange(Instant(seconds: negative ? -value : value))
    }

    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        mutating func digits(_ width: Int) throws(FieldError) -> Int {
            guard index + width <= bytes.count else { throw FieldError("timestamp is not in a known form") }
            var value = 0
            for _ in 0..<width {
                let byte = bytes[index]
                guard byte >= 0x30 && byte <= 0x39 else { throw FieldError("timestamp is not in a known form") }
                value = value * 10 + Int(byte - 0x30)
                index += 1
            }
            return value
        }

        mutating func expect(_ character: Unicode.Scalar) throws(FieldError) {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else {
                throw FieldError("timestamp is not in a known form")
            }
            index += 1
        }
    }
}

