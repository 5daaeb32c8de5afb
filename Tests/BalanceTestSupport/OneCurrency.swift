import BalanceModel
import BalanceReport

// Reading the figures of a run of one currency, as most tests' runs are. Each accessor checks
// that the run has one currency: a test of several reads `currencies` by name instead.

extension PartnerReport {
    /// The partner's only currency's book.
    public var onlyBook: PartnerCurrency {
        precondition(currencies.count == 1, "partner \(partnerID) holds \(currencies.count) currencies")
        return currencies[0]
    }
    public var totals: BalanceMovement {
        get { onlyBook.totals }
        set { _ = onlyBook; currencies[0].totals = newValue }
    }
    public var services: [ServiceSpend] {
        get { onlyBook.services }
        set { _ = onlyBook; currencies[0].services = newValue }
    }
    public var bySpend: [Int] { onlyBook.bySpend }

    /// The book of `currency`.
    public func book(_ currency: String) -> PartnerCurrency? { currencies.first { $0.currency.bytesEqual(currency) } }
}

extension RunReport {
    public var currency: String {
        precondition(currencies.count <= 1, "the run holds \(currencies)")
        return currencies.first ?? "RUB"
    }
}

extension Tally {
    /// The amount of a tally of one currency (zero when it has none).
    public var amount: Money {
        get {
            precondition(amounts.entries.count <= 1, "the tally holds \(amounts.currencies)")
            return amounts.entries.first?.value ?? .zero
        }
        set {
            let currency = amounts.currencies.first ?? "RUB"
            amounts = CurrencyAmounts()
            amounts.add(newValue, currency)
        }
    }
}

extension PerCurrency where Value == KindTotals {
    /// The totals of a run of one currency.
    public var only: KindTotals {
        precondition(entries.count <= 1, "the totals hold \(currencies)")
        return entries.first?.value ?? KindTotals()
    }
}
