/// What a partner must act on about a client: the rule behind the summary's "needs attention" list.
///
/// A client is flagged for one or more of these reasons, read from its own report only:
///
/// * **in debt**: its closing balance is below zero (top it up or stop it);
/// * **running out**: it is still attached at the period end, its closing balance is not negative,
///   and it would not cover another `rateDays` days at the client's recent spend rate, i.e.
///   `closing < rateDays × (charges − refunds of its last rateDays visible days) / rateDays`, which
///   is `closing < that spend`. The rate is the spend of the last `rateDays` days of its last
///   visible interval divided by `rateDays` (a client attached for fewer days counts the whole
///   span, so a new client is not flagged on one day's spend alone);
/// * **blocked**: blocked by an event inside the period and still blocked at its end;
/// * **removed**: an attachment window ended inside the period (removed, or removed and added again);
/// * **block lifted**: blocked inside the period and unblocked again before its end.
///
/// A balance that dipped below zero and recovered is not on the list: there is nothing left to do
/// (the client page still shows the lowest balance). The ranking puts the most urgent first: in
/// debt (largest debt first), running out (fewest days left first), still blocked, removed, block
/// lifted; ties by client id.
public struct Attention: Sendable, Equatable {
    public struct Reasons: OptionSet, Sendable, Equatable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let inDebt = Reasons(rawValue: 1 << 0)
        public static let runningOut = Reasons(rawValue: 1 << 1)
        public static let blocked = Reasons(rawValue: 1 << 2)
        public static let removed = Reasons(rawValue: 1 << 3)
        public static let blockLifted = Reasons(rawValue: 1 << 4)
    }

    /// The days of spend the rate is measured over, and that a balance should cover.
    public static let rateDays: Int64 = 7

    public var reasons: Reasons = []
    /// With `runningOut`: whole days the closing balance lasts at the recent spend rate.
    public var daysLeft: Int64? = nil

    public var isNeeded: Bool { !reasons.isEmpty }

    public init() {}

    init(_ client: ClientReport, period: Interval) {
        if let movement = client.movement {
            if movement.closing.isNegative { reasons.insert(.inDebt) }
            let attachedAtEnd = client.visibleIntervals.last?.end == period.end
            let spend = client.recentSpend
            if attachedAtEnd, !movement.closing.isNegative, spend.picos > 0, movement.closing < spend {
                reasons.insert(.runningOut)
                // closing / (spend / rateDays), in whole days.
                daysLeft = Int64(movement.closing.picos * Int128(Attention.rateDays) / spend.picos)
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
        if client.removedAt != nil { reasons.insert(.removed) }
    }

    /// The urgency group: lower is more urgent.
    var group: Int {
        if reasons.contains(.inDebt) { return 0 }
        if reasons.contains(.runningOut) { return 1 }
        if reasons.contains(.blocked) { return 2 }
        if reasons.contains(.removed) { return 3 }
        return 4
    }

    /// Indices of the clients that need attention, most urgent first.
    static func rank(_ clients: [ClientReport]) -> [Int] {
        let flagged = clients.indices.filter { clients[$0].attention.isNeeded }
        return flagged.sorted { a, b in
            let (x, y) = (clients[a].attention, clients[b].attention)
            if x.group != y.group { return x.group < y.group }
            switch x.group {
            case 0:
                let (p, q) = (clients[a].movement!.closing, clients[b].movement!.closing)
                if p != q { return p < q }
            case 1:
                // closing_a / spend_a < closing_b / spend_b, exactly: no division, no overflow.
                let p = clients[a].movement!.closing.picos.multipliedFullWidth(by: clients[b].recentSpend.picos)
                let q = clients[b].movement!.closing.picos.multipliedFullWidth(by: clients[a].recentSpend.picos)
                if p != q { return p < q }
            default:
                break
            }
            return a < b
        }
    }
}
