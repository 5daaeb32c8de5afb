import BalanceModel
import BalanceSupport
/// What a partner must act on about a client: the rule behind the summary's "needs attention" list.
///
/// A client is flagged for one or more of these reasons, read from its own report only:
///
/// * **in debt**: its closing balance is below zero (top it up or stop it);
/// * **runs out within 7 days**: its `Runway` (still attached at the period end, closing balance
///   not negative, some spend) gives fewer than `horizonDays` whole days left at the recent spend
///   rate. The same figure is the client page's runway, so the two never disagree;
/// * **blocked**: blocked by an event inside the period and still blocked at its end;
/// * **spend jumped**: a `Spike` (a day's spend on a service at least 1,000 and over 3× the median
///   of the 7 days before);
/// * **removed**: an attachment window ended inside the period (removed, or removed and added again);
/// * **block lifted**: blocked inside the period and unblocked again before its end.
///
/// A balance that dipped below zero and recovered is not on the list: there is nothing left to do
/// (the client page still shows the lowest balance). The ranking puts the most urgent first: in
/// debt (largest debt first), running out (fewest days left first), still blocked, spend jumped
/// (largest spike first), removed, block lifted; ties by client id.
public struct Attention: Sendable, Equatable {
    public struct Reasons: OptionSet, Sendable, Equatable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let inDebt = Reasons(rawValue: 1 << 0)
        public static let runningOut = Reasons(rawValue: 1 << 1)
        public static let blocked = Reasons(rawValue: 1 << 2)
        public static let removed = Reasons(rawValue: 1 << 3)
        public static let blockLifted = Reasons(rawValue: 1 << 4)
        public static let spendJumped = Reasons(rawValue: 1 << 5)
    }

    /// The days a balance should cover at its recent spend rate ("runs out within 7 days").
    public static let horizonDays: Int64 = 7

    public var reasons: Reasons = []
    /// With `runningOut`: whole days the closing balance lasts at the recent spend rate.
    public var daysLeft: Int64? = nil

    public var isNeeded: Bool { !reasons.isEmpty }

    public init() {}

    init(_ client: ClientReport, period: Interval) {
        // A postpaid layout has no balance: nothing is a debt, nothing runs out.
        if let movement = client.movement, client.showsBalances {
            if movement.closing.isNegative { reasons.insert(.inDebt) }
            if let runway = client.runway, runway.runsOut(within: Attention.horizonDays) {
                reasons.insert(.runningOut)
                daysLeft = runway.daysLeft
            }
        }
        if let block = client.blocksInPeriod.last {
            if block.unblocked != nil {
                reasons.insert(.blockLifted)
            } else if client.state == .blocked {
                reasons.insert(.blocked)
            }
            // Blocked, then removed: the removal below says it.
        }
        if client.spike != nil { reasons.insert(.spendJumped) }
        if client.removedAt != nil { reasons.insert(.removed) }
    }

    /// The urgency group: lower is more urgent.
    var group: Int {
        if reasons.contains(.inDebt) { return 0 }
        if reasons.contains(.runningOut) { return 1 }
        if reasons.contains(.blocked) { return 2 }
        if reasons.contains(.spendJumped) { return 3 }
        if reasons.contains(.removed) { return 4 }
        return 5
    }

    /// Indices of the clients that need attention, most urgent first.
    static func rank(_ clients: [ClientReport]) -> [Int] {
        let flagged = clients.indices.filter { clients[$0].attention.isNeeded }
        return flagged.sorted { a, b in
            let (x, y) = (clients[a].attention, clients[b].attention)
            if x.group != y.group { return x.group < y.group }
            // Amounts of two currencies are never compared (SPEC §2.1): the debts and spikes of one
            // currency are ranked among themselves, currencies in code order.
            if x.group == 0 || x.group == 3, !clients[a].currency.bytesEqual(clients[b].currency) {
                return byteOrder(clients[a].currency, clients[b].currency)
            }
            switch x.group {
            case 0:
                let (p, q) = (clients[a].movement!.closing, clients[b].movement!.closing)
                if p != q { return p < q }
            case 1:
                // closing_a / spend_a < closing_b / spend_b, exactly: no division, no overflow
                // (every client of a run measures its spend over the same number of days).
                let p = clients[a].movement!.closing.picos.multipliedFullWidth(by: clients[b].recentSpend.picos)
                let q = clients[b].movement!.closing.picos.multipliedFullWidth(by: clients[a].recentSpend.picos)
                if p != q { return p < q }
            case 3:
                let (p, q) = (clients[a].spike!.spend, clients[b].spike!.spend)
                if p != q { return q < p }
            default:
                break
            }
            return a < b
        }
    }
}
