import BalanceSupport
/// An exact amount of money in 10⁻¹² of the currency unit.
///
/// Billing exports carry many fractional digits: per-second billing gives fractions of a kopeck,
/// and FinOps FOCUS exports write 10–11 digits. Amounts are counted in pico-units, so twelve
/// digits are exact. The count is an `Int128`: the parser caps one amount at a trillion units
/// (10²⁴ pico-units), so a billion such lines still sum to far below `Int128.max` (1.7 × 10³⁸),
/// and there is no `Double` anywhere on the money path.
public struct Money: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Pico-units per whole unit (twelve fractional digits).
    public static let scale: Int128 = 1_000_000_000_000
    public static let fractionDigits = 12
    public static let zero = Money(picos: 0)

    public var picos: Int128

    @inlinable public init(picos: Int128) { self.picos = picos }

    @inlinable public static func + (a: Money, b: Money) -> Money { Money(picos: a.picos + b.picos) }
    @inlinable public static func - (a: Money, b: Money) -> Money { Money(picos: a.picos - b.picos) }
    @inlinable public static prefix func - (a: Money) -> Money { Money(picos: -a.picos) }
    @inlinable public static func += (a: inout Money, b: Money) { a.picos += b.picos }
    @inlinable public static func -= (a: inout Money, b: Money) { a.picos -= b.picos }
    @inlinable public static func < (a: Money, b: Money) -> Bool { a.picos < b.picos }

    @inlinable public var isNegative: Bool { picos < 0 }
    @inlinable public var isZero: Bool { picos == 0 }
    @inlinable public var magnitude: Money { Money(picos: picos < 0 ? -picos : picos) }

    /// The exact value with `.` as decimal mark, trailing zeros trimmed to at least two digits
    /// (`12.5` → `12.50`, `0.004167` stays), no grouping: the CSV form.
    public var description: String { exactText(decimalMark: ".") }

    public func exactText(decimalMark: Character) -> String {
        var bytes: [UInt8] = []
        appendExact(decimalMark: UInt8(ascii: decimalMark.unicodeScalars.first!), to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the exact text as UTF-8 bytes: every fractional digit the value has, at least two.
    @inlinable public func appendExact(decimalMark: UInt8, to out: inout [UInt8]) {
        let negative = picos < 0
        let magnitude = negative ? -picos : picos
        if negative { out.append(UInt8(ascii: "-")) }
        // Int64 arithmetic where it fits (always, for parsed amounts): Int128 division is slow.
        // Int64 division where the amount fits (nearly always): Int128 division is a library call.
        var fraction: Int64
        if let small = Int64(exactly: magnitude) {
            appendDecimal(small / 1_000_000_000_000, width: 1, to: &out)
            fraction = small % 1_000_000_000_000
        } else {
            let whole: Int128 = magnitude / Money.scale
            out.append(contentsOf: String(whole).utf8)
            fraction = Int64(magnitude % Money.scale)
        }
        out.append(decimalMark)
        var digits = Money.fractionDigits
        while digits > 2 && fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        appendDecimal(fraction, width: digits, to: &out)
    }

    /// Whole kopecks (hundredths), rounded half away from zero: the one rounding the product does,
    /// for display only.
    @inlinable public var roundedKopecks: Int128 {
        let magnitude = picos < 0 ? -picos : picos
        let kopecks: Int128
        if let small = Int64(exactly: magnitude), small < Int64.max - 5_000_000_000 {
            kopecks = Int128((small + 5_000_000_000) / 10_000_000_000)   // Int64 division where it fits
        } else {
            kopecks = (magnitude + Money.scale / 200) / (Money.scale / 100)
        }
        return picos < 0 ? -kopecks : kopecks
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
@inlinable @inline(__always)
package func appendDecimal(_ value: Int64, width: Int, to out: inout [UInt8]) {
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
