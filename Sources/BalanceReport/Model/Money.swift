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
        let negative = micros < 0
        let magnitude = negative ? -micros : micros
        let whole = magnitude / Money.scale
        var fraction = Int(magnitude % Money.scale)
        var digits = 6
        while digits > 2 && fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        var fractionText = String(fraction)
        if fractionText.count < digits {
            fractionText = String(repeating: "0", count: digits - fractionText.count) + fractionText
        }
        return (negative ? "-" : "") + String(whole) + String(decimalMark) + fractionText
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
