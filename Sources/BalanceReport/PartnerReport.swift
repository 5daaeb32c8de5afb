import BalanceModel
import BalanceSupport
import Dispatch
import Glibc
import Synchronization

/// Everything a partner's reports show of one client.
public struct ClientReport: Sendable {
    public var client: ClientRecord
    /// State at the period end, and the moment of the event that set it (`nil` without events).
    public var state: ClientState
    public var stateSince: Instant?
    /// The period ∩ attachment windows.
    public var visibleIntervals: [Interval]
    /// `nil` when nothing of the period is visible (invited, never confirmed): the money is not the partner's.
    public var movement: BalanceMovement?
    public var detail: DetailLines
    /// By service name.
    public var services: [ServiceSpend]
    /// By date, then service.
    public var daily: [DailySpend]
    /// Blocks that began inside the period, in time order: a client blocked and unblocked again
    /// within the period is active at its end, yet the partner should still hear of it.
    public var blocksInPeriod: [Block] = []
    /// The stretches between visible intervals, in time order (empty with one interval).
    public var gaps: [UnattachedGap] = []
    /// The lowest balance the partner sees (the opening one, after each visible transaction, on
    /// each side of a gap); `nil` when the money is not the partner's.
    public var lowestBalance: Money? = nil
    /// The end of the first visible interval that ends inside the period: windows end only at a removal.
    public var removedAt: Instant? = nil
    /// Charges − refunds of the last `Runway.days` days of the last visible interval.
    public var recentSpend: Money { runway?.spend ?? .zero }
    /// How long the closing balance lasts at the recent spend rate; `nil` when the money is not visible.
    public var runway: Runway? = nil
    /// The largest day of spend far above the client's usual level (`Spike`), if any.
    public var spike: Spike? = nil
    /// What the partner must act on, if anything (SPEC-level rule in `Attention`).
    public var attention = Attention()

    /// A block: when it began, and when the client was unblocked (`nil`: not inside the period).
    public struct Block: Sendable, Equatable {
        public var blocked: Instant
        public var unblocked: Instant?
    }

    /// The blocks of `timeline` that began inside `period`.
    static func blocks(_ timeline: ClientTimeline, in period: Interval) -> [Block] {
        var blocks: [Block] = []
        for (index, change) in timeline.changes.enumerated() where change.state == .blocked && period.contains(change.instant) {
            let next = timeline.changes.dropFirst(index + 1).first
            let unblocked = next.flatMap { $0.state == .active && $0.instant < period.end ? $0.instant : nil }
            blocks.append(Block(blocked: change.instant, unblocked: unblocked))
        }
        return blocks
    }
}

/// One partner's view of the period.
public struct PartnerReport: Sendable {
    public var partnerID: String
    /// By client id.
    public var clients: [ClientReport] { didSet { hasGaps = clients.contains { !$0.gaps.isEmpty } } }
    /// Sum over the clients whose money is visible.
    public var totals: BalanceMovement
    /// Spend per service over all clients, by service name.
    public var services: [ServiceSpend]
    /// Indices into `clients` of every client that needs attention, most urgent first (`Attention.rank`).
    public var attention: [Int] = []
    /// Indices into `clients` by spend in the period, largest first, then by closing balance
    /// (largest first), then by client id; clients whose money is not visible come last.
    public var bySpend: [Int] = []
    /// Change since an earlier period (`--compare previous` / `--compare-with`); `nil` without one.
    public var comparison: PartnerComparison? = nil

    /// Whether any client was detached and attached again inside the period. Stored, not
    /// computed: pages ask once per row, and a scan per row was quadratic in clients.
    public private(set) var hasGaps = false

    public init(partnerID: String, clients: [ClientReport], totals: BalanceMovement, services: [ServiceSpend]) {
        self.partnerID = partnerID
        self.clients = clients
        self.totals = totals
        self.services = services
        hasGaps = clients.contains { !$0.gaps.isEmpty }
        attention = Attention.rank(clients)
        bySpend = PartnerReport.rankBySpend(clients)
    }

    static func rankBySpend(_ clients: [ClientReport]) -> [Int] {
        func spend(_ m: BalanceMovement) -> Money { m.charges - m.refunds }
        return clients.indices.sorted { a, b in
            let (x, y) = (clients[a].movement, clients[b].movement)
            guard let x, let y else { return x != nil && y == nil || (x == nil && y == nil && a < b) }
            if spend(x) != spend(y) { return spend(y) < spend(x) }
            if x.closing != y.closing { return y.closing < x.closing }
            return a < b   // clients are in client-id order
        }
    }
}

/// What Report hands to Render: the partners' reports and the run summary.
public struct RunReport: Sendable {
    public var period: ReportPeriod
    public var currency: String
    public var partners: [PartnerReport]
    public var summary: RunSummary
    /// Where `period` came from, so the summary never presents a stand-in as a real period.
    public var periodOrigin: PeriodOrigin = .given
    /// The days the runway's spend rate is measured over (`--runway-days`).
    public var runwayDays: Int64 = Runway.defaultDays
    /// Each partner's invoices beside the period (`InvoiceReconciliation`); empty without invoices.
    public var invoices = InvoiceReconciliation()

    public enum PeriodOrigin: Sendable, Equatable {
        /// `--period` or `--from`/`--to`.
        case given
        /// `validate` without a period: the Moscow days from the first to the last transaction.
        case transactions
        /// `validate` without a period and no transaction read: `period` is a placeholder.
        case none
    }
}
