import BalanceModel
import BalanceSupport
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

/// A line of a client's detail as a value: a transaction and the balance right after it.
public struct DetailLine: Sendable, Equatable {
    public var transaction: Transaction
    public var balanceAfter: Money

    public init(transaction: Transaction, balanceAfter: Money) {
        self.transaction = transaction
        self.balanceAfter = balanceAfter
    }
}

/// A client's detail: row numbers into the run's transaction table and the balance after each.
///
/// 20 bytes a line, no string and no reference count per line; pages read single fields
/// (`id(_:)`, `amount(_:)`, …). As a collection its elements are `DetailLine` values, and a
/// line changed or added through it (only tests tamper with lines) gets a row of its own.
public struct DetailLines: Sendable, RandomAccessCollection, MutableCollection, RangeReplaceableCollection,
                           ExpressibleByArrayLiteral, Equatable {
    private(set) var store: TransactionStore
    private(set) var rows: [UInt32]
    public private(set) var balances: [Money]

    public init() {
        store = TransactionStore(TransactionTable())
        rows = []
        balances = []
    }

    init(store: TransactionStore) {
        self.store = store
        rows = []
        balances = []
    }

    public init(arrayLiteral lines: DetailLine...) {
        self.init()
        append(contentsOf: lines)
    }

    mutating func append(row: Int, balanceAfter: Money) {
        rows.append(UInt32(row))
        balances.append(balanceAfter)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { rows.count }

    public subscript(index: Int) -> DetailLine {
        get { DetailLine(transaction: store.table[Int(rows[index])], balanceAfter: balances[index]) }
        set {
            if newValue.transaction != store.table[Int(rows[index])] {
                var table = store.table
                table.append(newValue.transaction)
                store = TransactionStore(table)
                rows[index] = UInt32(table.count - 1)
            }
            balances[index] = newValue.balanceAfter
        }
    }

    public mutating func replaceSubrange<C: Collection>(_ range: Range<Int>, with lines: C) where C.Element == DetailLine {
        var newRows: [UInt32] = []
        var table = store.table
        for line in lines {
            table.append(line.transaction)
            newRows.append(UInt32(table.count - 1))
        }
        if !newRows.isEmpty { store = TransactionStore(table) }
        rows.replaceSubrange(range, with: newRows)
        balances.replaceSubrange(range, with: lines.map(\.balanceAfter))
    }

    public mutating func reserveCapacity(_ n: Int) {
        rows.reserveCapacity(n)
        balances.reserveCapacity(n)
    }

    // Single fields of line `index`.
    @inline(__always) public func instant(_ index: Int) -> Instant { store.table.instant(Int(rows[index])) }
    @inline(__always) public func kind(_ index: Int) -> TransactionKind { store.table.kind(Int(rows[index])) }
    @inline(__always) public func amount(_ index: Int) -> Money { store.table.amount(Int(rows[index])) }
    @inline(__always) public func net(_ index: Int) -> Money { store.table.net(Int(rows[index])) }
    @inline(__always) public func balanceAfter(_ index: Int) -> Money { balances[index] }
    public func id(_ index: Int) -> String { store.table.id(Int(rows[index])) }
    public func service(_ index: Int) -> String { store.table.serviceName(Int(rows[index])) }
    public func description(_ index: Int) -> String { store.table.description(Int(rows[index])) }

    public static func == (a: DetailLines, b: DetailLines) -> Bool { a.elementsEqual(b) }
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
        // The client's rows, read straight from the table's columns (no per-row copy of anything).
        let store = client.transactions.store
        let rows = client.transactions.rows
        let first = rows.lowerBound
        // Running net: prefix[i] = net of the first i transactions in balance order.
        var prefix = [Money](repeating: .zero, count: rows.count + 1)
        for index in 0..<rows.count {
            prefix[index + 1] = prefix[index] + store.table.net(first + index)
        }
        func netBefore(_ t: Instant) -> Money { prefix[lowerBound(store.table, rows, t)] }
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
        var detail = DetailLines(store: store)
        // Services by their number in the run's table (equal bytes, one number).
        var services = FewKeys<ServiceSpend>()
        var daily: [DailySpend] = []
        // Detail lines come in time order, so one Moscow day's spend is one run of lines; one
        // table of the day's spend, emptied for the next day, keeps its room.
        var day: (date: CivilDate, end: Instant)? = nil
        var daySpend = FewKeys<Money>()
        func closeDay() {
            guard let finished = day else { return }
            let names = daySpend.keys.map { store.table.serviceNames.names[Int($0)] }
            for slot in names.indices.sorted(by: { byteOrder(names[$0], names[$1]) }) {
                daily.append(DailySpend(date: finished.date, service: names[slot], net: daySpend.values[slot]))
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
            let from = lowerBound(store.table, rows, interval.start)
            let to = lowerBound(store.table, rows, interval.end)
            detail.reserveCapacity(detail.count + to - from)
            for position in from..<to {
                let row = first + position
                let after = base + prefix[position + 1]
                if after < lowest { lowest = after }
                detail.append(row: row, balanceAfter: after)
                let amount = store.table.amount(row)
                let kind = store.table.kind(row)
                switch kind {
                case .topup:
                    movement.topups += amount
                    continue
                case .charge:
                    movement.charges += amount
                    services.values[services.slot(store.table.service(row)) { _ in ServiceSpend(service: store.table.serviceName(row)) }].charged += amount
                case .refund:
                    movement.refunds += amount
                    services.values[services.slot(store.table.service(row)) { _ in ServiceSpend(service: store.table.serviceName(row)) }].refunded += amount
                }
                let instant = store.table.instant(row)
                let net = kind == .charge ? -amount : amount
                if instant >= rateFrom { recentSpend -= net }
                if let current = day, instant >= current.end { closeDay() }
                if day == nil {
                    let date = MoscowTime.date(of: instant)
                    day = (date, MoscowTime.midnight(date.adding(days: 1)))
                }
                daySpend.values[daySpend.slot(store.table.service(row)) { _ in .zero }] -= net
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

    /// Index (from the start of `rows`) of the first transaction at or after `t`.
    static func lowerBound(_ table: TransactionTable, _ rows: Range<Int>, _ t: Instant) -> Int {
        var low = 0
        var high = rows.count
        while low < high {
            let mid = (low + high) / 2
            if table.instant(rows.lowerBound + mid) < t { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// Values under a few numbered keys (a client's services, by their number in the run's table):
/// found by comparing the numbers while they are few, which is cheaper than hashing, and through a
/// dictionary once they are many, so that an export with thousands of services per client stays linear.
struct FewKeys<Value> {
    private(set) var keys: [UInt32] = []
    var values: [Value] = []
    private var slots: [UInt32: Int]? = nil
    private static var searchLimit: Int { 16 }

    /// The slot of `key`, made with `make(key)` when it is new.
    mutating func slot(_ key: UInt32, _ make: (UInt32) -> Value) -> Int {
        if let slots {
            if let slot = slots[key] { return slot }
        } else if let slot = keys.firstIndex(of: key) {
            return slot
        }
        keys.append(key)
        values.append(make(key))
        if slots != nil {
            slots![key] = keys.count - 1
        } else if keys.count > FewKeys.searchLimit {
            slots = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
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

