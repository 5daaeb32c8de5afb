import Dispatch
import Glibc
import Synchronization

/// Opening and closing balance and the period's movements of one client (or a partner's sum).
///
/// `opening + topups − charges + refunds + unattachedChange = closing`, always (SPEC §3): the
/// closing balance is the client's own, and whatever moved it while the client was detached from
/// the partner is `unattachedChange`, one figure that reveals no hidden transaction.
public struct BalanceMovement: Sendable, Equatable {
    public var opening = Money.zero
    public var topups = Money.zero
    public var charges = Money.zero
    public var refunds = Money.zero
    /// The net movement between visible intervals (removed, then added again): zero with one interval.
    public var unattachedChange = Money.zero
    public var closing = Money.zero

    public init() {}

    /// Whether the movements lead from the opening to the closing balance.
    public var addsUp: Bool { opening + topups - charges + refunds + unattachedChange == closing }

    public static func + (a: BalanceMovement, b: BalanceMovement) -> BalanceMovement {
        var sum = BalanceMovement()
        sum.opening = a.opening + b.opening
        sum.topups = a.topups + b.topups
        sum.charges = a.charges + b.charges
        sum.refunds = a.refunds + b.refunds
        sum.unattachedChange = a.unattachedChange + b.unattachedChange
        sum.closing = a.closing + b.closing
        return sum
    }
}

/// A stretch of the period in which the client was not attached to the partner, between two
/// visible intervals: the partner sees the balance on both sides, not the transactions in between.
public struct UnattachedGap: Sendable, Equatable {
    /// The end of the earlier visible interval (the removal) and the start of the next (the confirmation).
    public var from: Instant
    public var to: Instant
    /// The balance at `from` and at `to`.
    public var before: Money
    public var after: Money
    /// How many detail lines come before it: the gap sits between `detail[position - 1]` and `detail[position]`.
    public var position: Int

    public var change: Money { after - before }
}

/// A line of a client's detail: a transaction and the balance right after it.
///
/// The line points into the client's transactions in the ledger instead of holding a copy: a
/// million lines then cost a million small structs, not a million copies of six strings each.
public struct DetailLine: Sendable, Equatable {
    /// The client's transactions as the ledger holds them (the same storage, not a copy).
    private var ledger: [Transaction]
    private var position: Int
    public var balanceAfter: Money

    public init(transaction: Transaction, balanceAfter: Money) {
        self.init(in: [transaction], at: 0, balanceAfter: balanceAfter)
    }

    init(in ledger: [Transaction], at position: Int, balanceAfter: Money) {
        self.ledger = ledger
        self.position = position
        self.balanceAfter = balanceAfter
    }

    /// Read in place; a change (only tests tamper with lines) copies the ledger's list first.
    public var transaction: Transaction {
        _read { yield ledger[position] }
        _modify { yield &ledger[position] }
    }

    public static func == (a: DetailLine, b: DetailLine) -> Bool {
        a.balanceAfter == b.balanceAfter && a.transaction == b.transaction
    }
}

/// Spend on one service: charges − refunds.
public struct ServiceSpend: Sendable, Equatable {
    public var service: String
    public var charged = Money.zero
    public var refunded = Money.zero
    public var net: Money { charged - refunded }

    public init(service: String) { self.service = service }
}

/// Spend on one service on one Moscow calendar day.
public struct DailySpend: Sendable, Equatable {
    public var date: CivilDate
    public var service: String
    public var net: Money
}

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
    public var detail: [DetailLine]
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
    public var clients: [ClientReport]
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

    /// Whether any client was detached and attached again inside the period.
    public var hasGaps: Bool { clients.contains { !$0.gaps.isEmpty } }

    public init(partnerID: String, clients: [ClientReport], totals: BalanceMovement, services: [ServiceSpend]) {
        self.partnerID = partnerID
        self.clients = clients
        self.totals = totals
        self.services = services
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

    public enum PeriodOrigin: Sendable, Equatable {
        /// `--period` or `--from`/`--to`.
        case given
        /// `validate` without a period: the Moscow days from the first to the last transaction.
        case transactions
        /// `validate` without a period and no transaction read: `period` is a placeholder.
        case none
    }
}

/// Builds partner reports from the ledger. Pure functions over values.
public enum ReportBuilder {
    /// Clients are built on up to `workers` threads (1: on the calling thread only); the result
    /// is the same whatever the number.
    public static func build(ledger: Ledger, export: IngestedExport, period: ReportPeriod,
                             runwayDays: Int64 = Runway.defaultDays,
                             workers: Int = processorCount) -> RunReport {
        let partners = partnerReports(ledger: ledger, period: period, runwayDays: runwayDays, workers: workers)
        let summary = RunSummary.build(ledger: ledger, export: export, period: period.interval, partners: partners, workers: workers)
        var report = RunReport(period: period, currency: ledger.currency, partners: partners, summary: summary)
        report.runwayDays = runwayDays
        return report
    }

    /// Every partner's report for `period`, by partner id bytes (no run summary).
    public static func partnerReports(ledger: Ledger, period: ReportPeriod, runwayDays: Int64 = Runway.defaultDays,
                                      workers: Int = processorCount) -> [PartnerReport] {
        let range = period.interval
        // Clients are independent of each other: their reports are built on every core.
        let clients = Array(ledger.clients.values)
        let reports = concurrentMap(clients, workers: workers) { clientReport($0, period: range, runwayDays: runwayDays) }
        var byPartner: [ByteKey: [ClientReport]] = [:]
        for report in reports.compactMap({ $0 }) {
            byPartner[ByteKey(report.client.partnerID), default: []].append(report)
        }
        let partners = byPartner.keys.sorted().map { id -> PartnerReport in
            let clients = byPartner[id]!.sorted { byteOrder($0.client.id, $1.client.id) }
            return PartnerReport(partnerID: id.text, clients: clients,
                                 totals: clients.compactMap(\.movement).reduce(BalanceMovement(), +),
                                 services: mergeServices(clients.flatMap(\.services)))
        }
        return partners
    }

    /// The client's report, or `nil` when the partner's reports do not list it: listed are the
    /// clients invited, active or blocked at the period end, and those attached at some moment of it.
    static func clientReport(_ client: LedgerClient, period: Interval,
                             runwayDays: Int64 = Runway.defaultDays) -> ClientReport? {
        let visible = client.timeline.visibleIntervals(in: period)
        guard let (state, since) = client.timeline.state(at: period.end) else { return nil }
        guard state != .removed || !visible.isEmpty else { return nil }

        guard !visible.isEmpty else {
            var report = ClientReport(client: client.record, state: state, stateSince: since, visibleIntervals: [],
                                      movement: nil, detail: [], services: [], daily: [],
                                      blocksInPeriod: ClientReport.blocks(client.timeline, in: period))
            report.attention = Attention(report, period: period)
            return report
        }
        let transactions = client.transactions
        // Running net: prefix[i] = net of the first i transactions in balance order.
        var prefix = [Money](repeating: .zero, count: transactions.count + 1)
        for index in transactions.indices {
            prefix[index + 1] = prefix[index] + transactions[index].kind.signed(transactions[index].amount)
        }
        func netBefore(_ t: Instant) -> Money { prefix[lowerBound(transactions, t)] }
        // balance(T) = B + net(before T) − net(before Tb); B = 0 and Tb = −∞ without a checkpoint.
        let base = client.record.checkpoint.map { $0.balance - netBefore($0.at) } ?? .zero
        func balance(at t: Instant) -> Money { base + netBefore(t) }

        var movement = BalanceMovement()
        movement.opening = balance(at: visible.first!.start)
        movement.closing = balance(at: visible.last!.end)
        var lowest = movement.opening
        var gaps: [UnattachedGap] = []
        // The runway's spend rate: the last N visible days (Runway.window), divided by those counted.
        let (rateFrom, rateDays) = Runway.window(visible: visible, days: runwayDays)
        var recentSpend = Money.zero
        var detail: [DetailLine] = []
        var services = FewKeys<ServiceSpend>()
        var daily: [DailySpend] = []
        // Detail lines come in time order, so one Moscow day's spend is one run of lines; one
        // table of the day's spend, emptied for the next day, keeps its room.
        var day: (date: CivilDate, end: Instant)? = nil
        var daySpend = FewKeys<Money>()
        func closeDay() {
            guard let finished = day else { return }
            for slot in daySpend.keys.indices.sorted(by: { byteOrder(daySpend.keys[$0], daySpend.keys[$1]) }) {
                daily.append(DailySpend(date: finished.date, service: daySpend.keys[slot], net: daySpend.values[slot]))
            }
            daySpend.removeAll()
            day = nil
        }
        for (number, interval) in visible.enumerated() {
            // Between two visible intervals the balance moves without the partner seeing why: one
            // gap row carries that net movement, so the page still adds up.
            if number > 0, visible[number - 1].end < interval.start {
                let gap = UnattachedGap(from: visible[number - 1].end, to: interval.start,
                                        before: balance(at: visible[number - 1].end), after: balance(at: interval.start),
                                        position: detail.count)
                movement.unattachedChange += gap.change
                if gap.after < lowest { lowest = gap.after }
                gaps.append(gap)
            }
            var index = lowerBound(transactions, interval.start)
            let first = index
            while index < transactions.count && transactions[index].instant < interval.end { index += 1 }
            detail.reserveCapacity(detail.count + index - first)
            for position in first..<index {
                let after = base + prefix[position + 1]
                if after < lowest { lowest = after }
                detail.append(DetailLine(in: transactions, at: position, balanceAfter: after))
                let transaction = transactions[position]
                switch transaction.kind {
                case .topup:
                    movement.topups += transaction.amount
                    continue
                case .charge:
                    movement.charges += transaction.amount
                    services.values[services.slot(transaction.service) { ServiceSpend(service: $0) }].charged += transaction.amount
                case .refund:
                    movement.refunds += transaction.amount
                    services.values[services.slot(transaction.service) { ServiceSpend(service: $0) }].refunded += transaction.amount
                }
                if transaction.instant >= rateFrom { recentSpend -= transaction.net }
                if let current = day, transaction.instant >= current.end { closeDay() }
                if day == nil {
                    let date = MoscowTime.date(of: transaction.instant)
                    day = (date, MoscowTime.midnight(date.adding(days: 1)))
                }
                daySpend.values[daySpend.slot(transaction.service) { _ in .zero }] -= transaction.net
            }
        }
        closeDay()
        var report = ClientReport(
            client: client.record, state: state, stateSince: since, visibleIntervals: visible, movement: movement,
            detail: detail,
            services: services.values.sorted { byteOrder($0.service, $1.service) },
            daily: daily, blocksInPeriod: ClientReport.blocks(client.timeline, in: period))
        report.gaps = gaps
        report.lowestBalance = lowest
        report.removedAt = visible.first { $0.end < period.end }?.end
        report.runway = Runway(days: rateDays, spend: recentSpend, closing: movement.closing,
                               attachedAtEnd: visible.last!.end == period.end)
        report.spike = Spike.largest(daily: daily, visible: visible)
        report.attention = Attention(report, period: period)
        return report
    }

    static func mergeServices(_ spends: [ServiceSpend]) -> [ServiceSpend] {
        var merged: [ByteKey: ServiceSpend] = [:]
        for spend in spends {
            merged[ByteKey(spend.service), default: ServiceSpend(service: spend.service)].charged += spend.charged
            merged[ByteKey(spend.service), default: ServiceSpend(service: spend.service)].refunded += spend.refunded
        }
        return merged.values.sorted { byteOrder($0.service, $1.service) }
    }

    /// Index of the first transaction at or after `t`.
    static func lowerBound(_ transactions: [Transaction], _ t: Instant) -> Int {
        var low = 0
        var high = transactions.count
        while low < high {
            let mid = (low + high) / 2
            if transactions[mid].instant < t { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// Values under a few string keys (a client's services): found by comparing the keys while they
/// are few, which is cheaper than hashing, and through a dictionary once they are many, so that
/// an export with thousands of services per client stays linear.
struct FewKeys<Value> {
    private(set) var keys: [String] = []
    var values: [Value] = []
    private var slots: [ByteKey: Int]? = nil
    private static var searchLimit: Int { 16 }

    /// The slot of `key`, made with `make(key)` when it is new.
    mutating func slot(_ key: String, _ make: (String) -> Value) -> Int {
        if let slots {
            if let slot = slots[ByteKey(key)] { return slot }
        } else if let slot = keys.firstIndex(where: { $0.bytesEqual(key) }) {
            return slot
        }
        keys.append(key)
        values.append(make(key))
        if slots != nil {
            slots![ByteKey(key)] = keys.count - 1
        } else if keys.count > FewKeys.searchLimit {
            slots = Dictionary(uniqueKeysWithValues: keys.enumerated().map { (ByteKey($1), $0) })
        }
        return keys.count - 1
    }

    mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        slots = nil
    }
}

/// Cores this process may use: the default number of workers.
public let processorCount = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

/// `transform` applied to every element on up to `workers` threads (1: on the calling thread);
/// the result is in the order of `items`, so it is the same whatever the number of workers.
func concurrentMap<T: Sendable, R: Sendable>(_ items: [T], workers: Int = processorCount,
                                             _ transform: @Sendable (T) -> R) -> [R] {
    let lanes = min(items.count, workers)
    guard lanes > 1 else { return items.map(transform) }
    let results = Mutex<[Int: [R]]>([:])
    DispatchQueue.concurrentPerform(iterations: lanes) { lane in
        // Contiguous blocks, so each lane's results are one array.
        let range = (items.count * lane / lanes)..<(items.count * (lane + 1) / lanes)
        let part = items[range].map(transform)
        results.withLock { $0[lane] = part }
    }
    return results.withLock { parts in (0..<lanes).flatMap { parts[$0]! } }
}

