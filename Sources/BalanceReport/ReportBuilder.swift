import BalanceModel
import BalanceSupport
import Dispatch
import Glibc
import Synchronization

/// Builds partner reports from the ledger. Pure functions over values.
public enum ReportBuilder {
    /// Clients are built on up to `workers` threads (1: on the calling thread only); the result
    /// is the same whatever the number.
    /// `balances: false`: a postpaid layout (a profile's `balances: no`): spend is shown, and no
    /// balance, runway or debt is decided (a cost export has no payments to balance against).
    public static func build(ledger: Ledger, export: IngestedExport, period: ReportPeriod,
                             runwayDays: Int64 = Runway.defaultDays, balances: Bool = true,
                             workers: Int = processorCount) -> RunReport {
        let partners = partnerReports(ledger: ledger, period: period, runwayDays: runwayDays, balances: balances, workers: workers)
        let summary = RunSummary.build(ledger: ledger, export: export, period: period.interval, partners: partners, workers: workers)
        var report = RunReport(period: period, currencies: RunReport.currencies(ledger, export), partners: partners, summary: summary)
        report.runwayDays = runwayDays
        report.showsBalances = balances
        report.invoices = InvoiceReconciliation.build(ledger: ledger, facts: export.invoices, period: period.interval)
        return report
    }

    /// Every partner's report for `period`, by partner id bytes (no run summary).
    public static func partnerReports(ledger: Ledger, period: ReportPeriod, runwayDays: Int64 = Runway.defaultDays,
                                      balances: Bool = true, workers: Int = processorCount) -> [PartnerReport] {
        let range = period.interval
        // Clients are independent of each other: their reports are built on every core.
        let clients = Array(ledger.clients.values)
        let reports = concurrentMap(clients, workers: workers) {
            clientReports($0, period: range, runwayDays: runwayDays, balances: balances)
        }
        var byPartner: [ByteKey: [ClientReport]] = [:]
        for report in reports.joined() {
            byPartner[ByteKey(report.client.partnerID), default: []].append(report)
        }
        let partners = byPartner.keys.sorted().map { id -> PartnerReport in
            var clients = byPartner[id]!
            // A client without money (no transaction, no checkpoint) is shown in the partner's
            // first currency: its figures are zeros, of no currency of its own.
            let first = clients.filter { $0.hasAccount }.map(\.currency).min(by: byteOrder) ?? ledger.currencies.first ?? "RUB"
            for index in clients.indices where !clients[index].hasAccount { clients[index].currency = first }
            // Ids as bytes (two canonically equal ids are two clients), then the currency.
            clients.sort { !$0.client.id.bytesEqual($1.client.id) ? byteOrder($0.client.id, $1.client.id) : byteOrder($0.currency, $1.currency) }
            return PartnerReport(partnerID: id.text, clients: clients)
        }
        return partners
    }

    /// The client's reports, one per currency account (one, of no currency yet, for a client
    /// without money); empty when the partner's reports do not list the client.
    static func clientReports(_ client: LedgerClient, period: Interval, runwayDays: Int64 = Runway.defaultDays,
                              balances: Bool = true) -> [ClientReport] {
        // A client whose money the partner does not see (invited, never confirmed in the period)
        // is one entry: its currencies are its money too, and are not shown either.
        if client.accounts.isEmpty || client.timeline.visibleIntervals(in: period).isEmpty {
            return clientReport(client, account: nil, period: period, runwayDays: runwayDays, balances: balances).map { [$0] } ?? []
        }
        return client.accounts.compactMap { clientReport(client, account: $0, period: period, runwayDays: runwayDays, balances: balances) }
    }

    /// The client's report, or `nil` when the partner's reports do not list it: listed are the
    /// clients invited, active or blocked at the period end, and those attached at some moment of it.
    static func clientReport(_ client: LedgerClient, account: CurrencyAccount?, period: Interval,
                             runwayDays: Int64 = Runway.defaultDays, balances: Bool = true) -> ClientReport? {
        let visible = client.timeline.visibleIntervals(in: period)
        guard let (state, since) = client.timeline.state(at: period.end) else { return nil }
        guard state != .removed || !visible.isEmpty else { return nil }

        guard !visible.isEmpty else {
            var report = ClientReport(client: client.record, state: state, stateSince: since, visibleIntervals: [],
                                      movement: nil, detail: [], services: [], daily: [],
                                      blocksInPeriod: ClientReport.blocks(client.timeline, in: period))
            report.currency = account?.currency ?? ""
            report.hasAccount = account != nil
            report.attention = Attention(report, period: period)
            return report
        }
        // The account's rows, read straight from the table's columns (no per-row copy of anything).
        let transactions = account?.transactions ?? ClientTransactions(store: client.transactions.store, rows: 0..<0)
        let store = transactions.store
        let rows = transactions.rows
        let first = rows.lowerBound
        // Running net: prefix[i] = net of the first i transactions in balance order.
        var prefix = [Money](repeating: .zero, count: rows.count + 1)
        for index in 0..<rows.count {
            prefix[index + 1] = prefix[index] + store.table.net(first + index)
        }
        func netBefore(_ t: Instant) -> Money { prefix[lowerBound(store.table, rows, t)] }
        // balance(T) = B + net(before T) − net(before Tb); B = 0 and Tb = −∞ without a checkpoint.
        let base = account?.checkpoint.map { $0.balance - netBefore($0.at) } ?? .zero
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
        report.currency = account?.currency ?? ""
        report.hasAccount = account != nil
        report.gaps = gaps
        report.removedAt = visible.first { $0.end < period.end }?.end
        report.showsBalances = balances
        if balances {
            report.lowestBalance = lowest
            report.runway = Runway(days: rateDays, spend: recentSpend, closing: movement.closing,
                                   attachedAtEnd: visible.last!.end == period.end)
        }
        report.spike = Spike.largest(daily: daily, visible: visible)
        report.attention = Attention(report, period: period)
        return report
    }

    package static func mergeServices(_ spends: [ServiceSpend]) -> [ServiceSpend] {
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
