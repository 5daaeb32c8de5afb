import BalanceModel

extension BalanceMovement {
    /// Spend: charges less refunds (SPEC §2.1).
    public var spend: Money { charges - refunds }
}

extension ClientReport {
    /// The visible spend of the period; `nil` when the partner sees none of the client's money.
    public var spend: Money? { movement?.spend }

    /// Below zero at some moment, and lower then than at the period end: worth its own line
    /// (a client whose lowest balance is its closing one shows it in the closing column).
    public var dippedBelowZero: Bool {
        guard let lowest = lowestBalance, let closing = movement?.closing else { return false }
        return lowest.isNegative && lowest < closing
    }
}

/// The partner summary's selections in one currency, read from Report's rankings: the clients
/// worth a busy reader's 30 seconds, cut to what an e-mail can hold.
public struct PartnerHighlights: Sendable {
    /// How many clients the summary lists (the largest spenders); the rest are summed up in one line.
    public static let clientLimit = 50
    /// How many clients the "needs attention" call-out lists; the rest are counted.
    public static let attentionLimit = 20

    public let currency: String
    /// Indices into `partner.clients` (`PartnerCurrency.bySpend`, cut).
    public let top: [Int]
    /// The listed clients not in `top`, summed.
    public let rest: BalanceMovement
    public let restCount: Int
    public let restSpend: Money
    /// Indices of the clients that need attention, most urgent first (`PartnerReport.attention`, cut).
    public let attention: [Int]
    public let attentionCount: Int

    /// `book`: one of `partner.currencies`.
    public init(_ partner: PartnerReport, _ book: PartnerCurrency) {
        currency = book.currency
        top = Array(book.bySpend.prefix(PartnerHighlights.clientLimit))
        let others = book.bySpend.dropFirst(PartnerHighlights.clientLimit)
        restCount = others.count
        rest = others.compactMap { partner.clients[$0].movement }.reduce(BalanceMovement(), +)
        restSpend = rest.spend
        attentionCount = partner.attention.count
        attention = Array(partner.attention.prefix(PartnerHighlights.attentionLimit))
    }
}

