import BalanceModel
import BalanceSupport
import Dispatch
import Glibc
import Synchronization

/// Everything a partner's reports show of one client.
public struct ClientReport: Sendable {
    public var client: ClientRecord
    /// The currency of this entry's money: a client with money in two currencies is two entries
    /// (SPEC §4: a row per currency), each with its own balance.
    public var currency: String = "RUB"
    /// Whether the client has money of its own (an account: transactions or a checkpoint); a
    /// client without is shown in its partner's first currency.
    public var hasAccount: Bool = true
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
    /// `false` in a postpaid layout: the movement's opening and closing figures are not balances
    /// to show (a cost export has no payments), and no debt or runway is decided from them.
    public var showsBalances = true

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

/// One currency of a partner's report: never added to, compared with or ranked against another
/// currency (SPEC §2.1).
public struct PartnerCurrency: Sendable {
    public var currency: String
    /// Sum over the clients of this currency whose money is visible.
    public var totals: BalanceMovement
    /// Spend per service over those clients, by service name.
    public var services: [ServiceSpend]
    /// Indices into the partner's `clients` of this currency's entries by spend in the period,
    /// largest first, then by closing balance (largest first), then by client id; entries whose
    /// money is not visible come last.
    public var bySpend: [Int]
    /// Change since an earlier period in this currency (`--compare previous`); `nil` without one.
    public var comparison: PartnerComparison? = nil

    public init(currency: String, totals: BalanceMovement, services: [ServiceSpend], bySpend: [Int] = []) {
        self.currency = currency
        self.totals = totals
        self.services = services
        self.bySpend = bySpend
    }
}

/// One partner's view of the period.
public struct PartnerReport: Sendable {
    public var partnerID: String
    /// By client id, then currency (a client with money in two currencies is two entries).
    public var clients: [ClientReport] { didSet { hasGaps = clients.contains { !$0.gaps.isEmpty } } }
    /// Totals, spend and rankings, one per currency of the partner's clients, by code bytes.
    public var currencies: [PartnerCurrency]
    /// Indices into `clients` of every client that needs attention, most urgent first (`Attention.rank`).
    public var attention: [Int] = []
    /// Change since an earlier period of a partner of one currency; one of several has one per
    /// currency (`PartnerCurrency.comparison`), never one across them.
    public var comparison: PartnerComparison? { currencies.count == 1 ? currencies[0].comparison : nil }
    /// Whether a comparison was made (`--compare previous` / `--compare-with`).
    public var hasComparison: Bool { currencies.contains { $0.comparison != nil } }

    /// Whether any client was detached and attached again inside the period. Stored, not
    /// computed: pages ask once per row, and a scan per row was quadratic in clients.
    public private(set) var hasGaps = false
    /// How many clients are listed (a client with money in two currencies is one client, two entries).
    public private(set) var clientCount = 0

    /// `clients` must be in client id and currency order; the currencies' totals are their sums.
    public init(partnerID: String, clients: [ClientReport]) {
        self.partnerID = partnerID
        self.clients = clients
        hasGaps = clients.contains { !$0.gaps.isEmpty }
        clientCount = clients.indices.filter { $0 == 0 || !clients[$0].client.id.bytesEqual(clients[$0 - 1].client.id) }.count
        attention = Attention.rank(clients)
        var members: [ByteKey: [Int]] = [:]
        for (index, client) in clients.enumerated() { members[ByteKey(client.currency), default: []].append(index) }
        currencies = members.keys.sorted().map { code in
            let indices = members[code]!
            return PartnerCurrency(currency: code.text,
                                   totals: indices.compactMap { clients[$0].movement }.reduce(BalanceMovement(), +),
                                   services: ReportBuilder.mergeServices(indices.flatMap { clients[$0].services }),
                                   bySpend: PartnerReport.rankBySpend(clients, indices))
        }
    }

    /// Whether the partner's clients hold money in more than one currency.
    public var isMultiCurrency: Bool { currencies.count > 1 }

    static func rankBySpend(_ clients: [ClientReport], _ indices: [Int]) -> [Int] {
        func spend(_ m: BalanceMovement) -> Money { m.charges - m.refunds }
        return indices.sorted { a, b in
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
    /// Every currency of the run (`Ledger.currencies`, and those of rejected or superseded amounts), by code bytes.
    public var currencies: [String]
    public var partners: [PartnerReport]
    public var summary: RunSummary
    /// Where `period` came from, so the summary never presents a stand-in as a real period.
    public var periodOrigin: PeriodOrigin = .given
    /// `false` for a postpaid layout (a profile's `balances: no`): pages show spend, not balances.
    public var showsBalances = true
    /// SPEC §4: when a run holds more than one currency, every money row says its currency.
    public var isMultiCurrency: Bool { currencies.count > 1 }
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

extension RunReport {
    /// The run's currencies, by code bytes: those of every transaction record read (duplicates and
    /// conflicts too), of the checkpoints, and of the rejected and superseded amounts. What a split
    /// of the run reads file by file adds up to the same (`SummaryMerge.currencies`).
    static func currencies(_ ledger: Ledger, _ export: IngestedExport) -> [String] {
        var codes = Set(ledger.currencies.map { ByteKey($0) })
        for name in ledger.store.table.currencyNames.names { codes.insert(ByteKey(name)) }
        for rejection in ledger.rejections where rejection.isRecord && rejection.amount != nil { codes.insert(ByteKey(rejection.currency)) }
        for transaction in export.superseded { codes.insert(ByteKey(transaction.currency)) }
        return codes.sorted().map(\.text)
    }
}
