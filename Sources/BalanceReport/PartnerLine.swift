import BalanceModel
import BalanceSupport

/// What `summary.json` lists of a partner.
public struct PartnerLine: Sendable {
    public var partnerID: String
    public var clients: Int
    public var totals: BalanceMovement

    public init(partnerID: String, clients: Int, totals: BalanceMovement) {
        self.partnerID = partnerID
        self.clients = clients
        self.totals = totals
    }
}
