import BalanceModel
import BalanceSupport
/// A client that transactions of the period name but no clients record does (SPEC §3: "unknown
/// clients are named"): no partner's, in no report, and listed so finance can find it.
public struct UnknownClient: Sendable, Equatable {
    public var clientID: String
    public var currency: String
    /// Transactions of the period.
    public var transactions: Int
    /// Their amounts as written (unsigned), as the run summary's `unknown client` amount counts them.
    public var amount: Money
    /// Where the first of them is (file and line order).
    public var first: SourceLocation

    public init(clientID: String, currency: String, transactions: Int, amount: Money, first: SourceLocation) {
        self.clientID = clientID
        self.currency = currency
        self.transactions = transactions
        self.amount = amount
        self.first = first
    }

    /// One entry per client id and currency (ids and currencies as bytes), for the transactions
    /// inside `period` (those the summary counts as `unknown client`), in byte order of the id, then
    /// the currency. Reads only `ledger.unknownClientTransactions`.
    public static func list(_ ledger: Ledger, period: Interval) -> [UnknownClient] {
        var entries: [UnknownClient] = []
        var slots: [ByteKey: [ByteKey: Int]] = [:]
        for transaction in ledger.unknownClientTransactions where period.contains(transaction.instant) {
            let shownID = RowPartnerKey.shownID(transaction.clientID)
            let client = ByteKey(shownID)
            let currency = ByteKey(transaction.currency)
            if let slot = slots[client]?[currency] {
                entries[slot].transactions += 1
                entries[slot].amount += transaction.amount
                if transaction.source < entries[slot].first { entries[slot].first = transaction.source }
            } else {
                slots[client, default: [:]][currency] = entries.count
                entries.append(UnknownClient(clientID: shownID, currency: transaction.currency, transactions: 1,
                                             amount: transaction.amount, first: transaction.source))
            }
        }
        return entries.sorted {
            if !$0.clientID.utf8.elementsEqual($1.clientID.utf8) { return byteOrder($0.clientID, $1.clientID) }
            return byteOrder($0.currency, $1.currency)
        }
    }

    /// The largest first (by amount within a currency, then transactions, then id bytes): the
    /// ones the stderr summary shows.
    public static func top(_ entries: [UnknownClient], count: Int) -> [UnknownClient] {
        Array(entries.sorted {
            if $0.amount != $1.amount { return $0.amount > $1.amount }
            if $0.transactions != $1.transactions { return $0.transactions > $1.transactions }
            return byteOrder($0.clientID, $1.clientID)
        }.prefix(count))
    }
}
