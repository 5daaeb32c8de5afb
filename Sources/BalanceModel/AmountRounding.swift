import BalanceSupport

/// The roundings of a run's float-printed amounts: how many, and their exact total difference
/// (rounded − written, signed as written), shown in the run summary. Differences are below half a
/// pico each but may have any number of digits (`1.2345678901234567E-20`), so they are added as
/// decimal digits, exactly.
public struct AmountRounding: Sendable, Equatable {
    /// Amounts that were rounded.
    public private(set) var count = 0
    /// Σ over rounded amounts of (rounded up ? 1 : 0) − dropped fraction, in picos, kept apart by
    /// the sign of the written value: `up` counts whole picos, `fraction` the dropped fractions.
    private var upPositive = 0
    private var upNegative = 0
    private var fractionPositive = DigitSum()
    private var fractionNegative = DigitSum()

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// One rounded amount: its sign as written, whether the pico was rounded up, and the dropped
    /// digits past the twelfth (`FloatAmountParser.Parsed`); nothing when none were dropped.
    public mutating func add(negative: Bool, roundedUp: Bool, dropped: [UInt8]) {
        guard !dropped.isEmpty else { return }
        count += 1
        if negative {
            if roundedUp { upNegative += 1 }
            fractionNegative.add(fraction: dropped)
        } else {
            if roundedUp { upPositive += 1 }
            fractionPositive.add(fraction: dropped)
        }
    }

    public mutating func merge(_ other: AmountRounding) {
        count += other.count
        upPositive += other.upPositive
        upNegative += other.upNegative
        fractionPositive.add(other.fractionPositive)
        fractionNegative.add(other.fractionNegative)
    }

    /// The total difference, rounded − written, as an exact decimal in currency units (every digit
    /// it has, at least two after the point): `-0.00000000000000017`.
    public var difference: String {
        // In picos: (upPositive − fractionPositive) − (upNegative − fractionNegative)
        //         = (upPositive + fractionNegative) − (upNegative + fractionPositive).
        var plus = fractionNegative
        plus.whole += upPositive
        var minus = fractionPositive
        minus.whole += upNegative
        let (negative, magnitude) = DigitSum.subtract(plus, minus)
        // Picos to units: the point moves twelve places left.
        var whole = String(magnitude.whole)
        while whole.utf8.count <= Money.fractionDigits { whole = "0" + whole }
        let split = whole.index(whole.endIndex, offsetBy: -Money.fractionDigits)
        var fraction = Array(whole[split...].utf8) + magnitude.digits.map { $0 + 0x30 }
        while fraction.count > 2 && fraction.last == 0x30 { fraction.removeLast() }
        let text = String(whole[..<split]) + "." + String(decoding: fraction, as: UTF8.self)
        return negative && (magnitude.whole != 0 || !magnitude.digits.isEmpty) ? "-" + text : text
    }

    /// The figures as stored in a summary part (the Spark route merges them): the count, the
    /// whole picos rounded up by sign, and the dropped fractions' digits by sign.
    public var parts: [String] {
        [String(count), String(upPositive), String(upNegative), fractionPositive.text, fractionNegative.text]
    }

    public init?(parts: [String]) {
        guard parts.count == 5, let count = Int(parts[0]), let up = Int(parts[1]), let down = Int(parts[2]),
              let plus = DigitSum(text: parts[3]), let minus = DigitSum(text: parts[4]) else { return nil }
        self.count = count
        upPositive = up
        upNegative = down
        fractionPositive = plus
        fractionNegative = minus
    }
}

/// A non-negative decimal `whole.digits`, added to exactly (digits 0–9, no trailing zeros).
package struct DigitSum: Sendable, Equatable {
    var whole = 0
    var digits: [UInt8] = []

    init() {}

    /// `whole.digits` as text (`0.000017`), and back.
    var text: String { digits.isEmpty ? String(whole) : String(whole) + "." + String(decoding: digits.map { $0 + 0x30 }, as: UTF8.self) }

    init?(text: String) {
        let pieces = text.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count <= 2, let whole = Int(pieces[0]), whole >= 0 else { return nil }
        self.whole = whole
        if pieces.count == 2 {
            let bytes = Array(pieces[1].utf8)
            guard bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            digits = bytes.map { $0 - 0x30 }
            while digits.last == 0 { digits.removeLast() }
        }
    }

    /// Adds `0.fraction`.
    mutating func add(fraction: [UInt8]) {
        add(DigitSum(whole: 0, digits: fraction))
    }

    mutating func add(_ other: DigitSum) {
        if other.digits.count > digits.count { digits += [UInt8](repeating: 0, count: other.digits.count - digits.count) }
        var carry: UInt8 = 0
        for position in stride(from: digits.count - 1, through: 0, by: -1) {
            let sum = digits[position] + (position < other.digits.count ? other.digits[position] : 0) + carry
            digits[position] = sum % 10
            carry = sum / 10
        }
        whole += other.whole + Int(carry)
        while digits.last == 0 { digits.removeLast() }
    }

    private init(whole: Int, digits: [UInt8]) {
        self.whole = whole
        self.digits = digits
    }

    /// |a − b| and whether a < b.
    static func subtract(_ a: DigitSum, _ b: DigitSum) -> (negative: Bool, magnitude: DigitSum) {
        let width = max(a.digits.count, b.digits.count)
        func padded(_ x: DigitSum) -> [UInt8] { x.digits + [UInt8](repeating: 0, count: width - x.digits.count) }
        let (ad, bd) = (padded(a), padded(b))
        let aLess = a.whole != b.whole ? a.whole < b.whole : ad.lexicographicallyPrecedes(bd)
        let (big, small, bigDigits, smallDigits) = aLess ? (b, a, bd, ad) : (a, b, ad, bd)
        var result = [UInt8](repeating: 0, count: width)
        var borrow = 0
        for position in stride(from: width - 1, through: 0, by: -1) {
            var value = Int(bigDigits[position]) - Int(smallDigits[position]) - borrow
            borrow = value < 0 ? 1 : 0
            if value < 0 { value += 10 }
            result[position] = UInt8(value)
        }
        var difference = DigitSum(whole: big.whole - small.whole - borrow, digits: result)
        while difference.digits.last == 0 { difference.digits.removeLast() }
        return (aLess, difference)
    }
}

extension AmountRounding {
    /// The rule as `summary.json` states it.
    public static let rule = "float-printed amounts read exactly (E-notation included) and rounded half to even to 12 fractional digits; difference = rounded - written"
}
