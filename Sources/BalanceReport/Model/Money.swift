/// An exact amount of money in millionths of the currency unit.
///
/// Billing exports carry up to six fractional digits (per-second billing produces fractions
/// of a kopeck), so amounts are counted in micro-units. The count is an `Int128`: a single
/// input amount is capped far below `Int64.max` by the parser, so no sum over any realistic
/// number of records can overflow, and there is no `Double` anywhere on the money path.
public struct Money: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Micro-units per whole unit (six fractional digits).
    public static let scale: Int128 = 1_000_000
    public static let zero = Money(micros: 0)

    public var micros: Int128

    public init(micros: Int128) { self.micros = micros }

    public static func + (a: Money, b: Money) -> Money { Money(micros: a.micros + b.micros) }
    public static func - (a: Money, b: Money) -> Money { Money(micros: a.micros - b.micros) }
    public static prefix func - (a: Money) -> Money { Money(micros: -a.micros) }
    public static func += (a: inout Money, b: Money) { a.micros += b.micros }
    public static func -= (a: inout Money, b: Money) { a.micros -= b.micros }
    public static func < (a: Money, b: Money) -> Bool { a.micros < b.micros }

    public var isNegative: Bool { micros < 0 }

    /// The exact value with `.` as decimal mark, trailing zeros trimmed to at least two digits
    /// (`12.5` → `12.50`, `0.004167` stays), no grouping: the CSV form.
    public var description: String { exactText(decimalMark: ".") }

    public func exactText(decimalMark: Character) -> String {
        var bytes: [UInt8] = []
        appendExact(decimalMark: UInt8(ascii: decimalMark.unicodeScalars.first!), to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the exact text as UTF-8 bytes: every fractional digit the value has, at least two.
    public func appendExact(decimalMark: UInt8, to out: inout [UInt8]) {
        let negative = micros < 0
        let magnitude = negative ? -micros : micros
        if negative { out.append(UInt8(ascii: "-")) }
        // Int64 arithmetic where it fits (always, for parsed amounts): Int128 division is slow.
        let whole: Int128 = magnitude / Money.scale
        if let small = Int64(exactly: whole) {
            appendDecimal(small, width: 1, to: &out)
        } else {
            out.append(contentsOf: String(whole).utf8)
        }
        out.append(decimalMark)
        var fraction = Int64(magnitude % Money.scale)
        var digits = 6
        while digits > 2 && fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        appendDecimal(fraction, width: digits, to: &out)
    }

    /// Whole kopecks (hundredths), rounded half away from zero: the one rounding the product does,
    /// for display only.
    public var roundedKopecks: Int128 {
        if let small = Int64(exactly: micros), small != .min {
            let magnitude = small < 0 ? -small : small
            let kopecks = Int128((magnitude + 5_000) / 10_000)
            return small < 0 ? -kopecks : kopecks
        }
        let magnitude = micros < 0 ? -micros : micros
        let kopecks = (magnitude + 5_000) / 10_000
        return micros < 0 ? -kopecks : kopecks
    }
}

extension Sequence {
    /// Exact sum of the amounts a closure picks out.
    @inlinable
    public func sum(_ amount: (Element) -> Money) -> Money {
        var total = Money.zero
        for element in self { total += amount(element) }
        return total
    }
}

/// Appends a non-negative number with at least `width` digits, as ASCII.
@inline(__always)
func appendDecimal(_ value: Int64, width: Int, to out: inout [UInt8]) {
    if value < 100 && width <= 2 {
        // Hours, minutes, days, months, kopecks: the common case, two bytes at most.
        if value >= 10 || width == 2 { out.append(UInt8(truncatingIfNeeded: value / 10) + 0x30) }
        out.append(UInt8(truncatingIfNeeded: value % 10) + 0x30)
        return
    }
    var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: enough for any Int64
    withUnsafeMutableBytes(of: &buffer) { raw in
        var position = raw.count
        var remaining = value
        repeat {
            position -= 1
            raw[position] = UInt8(truncatingIfNeeded: remaining % 10) + 0x30
            remaining /= 10
        } while remaining > 0
        while raw.count - position < width {
            position -= 1
            raw[position] = 0x30
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[position...]))
    }
}
