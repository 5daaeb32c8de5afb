import BalanceModel
import BalanceSupport

/// What `summary.json` lists of a partner.
public struct PartnerLine: Sendable {
    public var partnerID: String
    public var clients: Int
    /// Per currency (one entry in a run of one currency).
    public var totals: PerCurrency<BalanceMovement>

    public init(partnerID: String, clients: Int, totals: PerCurrency<BalanceMovement>) {
        self.partnerID = partnerID
        self.clients = clients
        self.totals = totals
    }
}

extension PartnerLine {
    public init(_ partner: PartnerReport) {
        var totals = PerCurrency<BalanceMovement>()
        for book in partner.currencies { totals[book.currency, default: book.totals] = book.totals }
        self.init(partnerID: partner.partnerID, clients: partner.clientCount, totals: totals)
    }
}
