/// Values kept apart per currency (SPEC §2.1: amounts of two currencies are never added,
/// compared or subtracted), by currency code bytes. A run holds a few currencies: a small array.
public struct PerCurrency<Value: Sendable & Equatable>: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var currency: String
        public var value: Value
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    public var isEmpty: Bool { entries.isEmpty }
    public var currencies: [String] { entries.map(\.currency) }

    /// The value of `currency`, `empty` when the currency has none yet.
    public subscript(currency: String, default empty: @autoclosure () -> Value) -> Value {
        get {
            let (index, found) = position(currency)
            return found ? entries[index].value : empty()
        }
        set {
            let (index, found) = position(currency)
            if found { entries[index].value = newValue } else { entries.insert(Entry(currency: currency, value: newValue), at: index) }
        }
    }

    public subscript(currency: String) -> Value? {
        let (index, found) = position(currency)
        return found ? entries[index].value : nil
    }

    /// Where `currency` is, or would be inserted.
    private func position(_ currency: String) -> (index: Int, found: Bool) {
        for (index, entry) in entries.enumerated() {
            if entry.currency.bytesEqual(currency) { return (index, true) }
            if byteOrder(currency, entry.currency) { return (index, false) }
        }
        return (entries.count, false)
    }

    /// Each currency's values combined with `combine`; a currency only one side has keeps its value.
    public func merging(_ other: PerCurrency, _ combine: (Value, Value) -> Value) -> PerCurrency {
        var result = self
        for entry in other.entries {
            if let mine = result[entry.currency] {
                result[entry.currency, default: mine] = combine(mine, entry.value)
            } else {
                result[entry.currency, default: entry.value] = entry.value
            }
        }
        return result
    }
}

/// Sums of money per currency.
public typealias CurrencyAmounts = PerCurrency<Money>

extension PerCurrency where Value == Money {
    public mutating func add(_ amount: Money, _ currency: String) {
        self[currency, default: .zero] += amount
    }

    public static func + (a: CurrencyAmounts, b: CurrencyAmounts) -> CurrencyAmounts { a.merging(b, +) }
}

/// A currency code as a run takes it (SPEC §2.1): three ASCII capital letters, the form of ISO
/// 4217. One rule for every place a code is read: a transaction's `currency`, a checkpoint's
/// `balance_currency`, a profile's renames, an earlier output, `--run-currencies`.
public enum CurrencyCode {
    @inlinable
    public static func isValid<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        bytes.count == 3 && bytes.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }

    public static func isValid(_ text: String) -> Bool { isValid(text.utf8) }
}
