import BalanceModel
import BalanceSupport
/// Change since an earlier period (issue 13): per client and service, the spend then and now.
///
/// Both sides are reduced to a `PeriodSpend` first — from a `PartnerReport` of the same ledger
/// (`--compare previous`) or from an earlier output's `services.csv` and `snapshot.csv`
/// (`--compare-with DIR`, read in `Render/PreviousOutput.swift`) — so both ways compare the same
/// figures by the same rule:
///
/// * A client is *listed* in a period when that period's reports list it (SPEC §3). A client
///   listed now and not then is **new**; one listed then and not now is **gone**.
/// * Each row is a client and a service with activity (a `services.csv` row) in either period.
///   `previous` / `current` are `nil` when the client was not listed in that period (new, gone),
///   and zero when it was listed but did not use the service (a service that appears or
///   disappears). `change = current − previous`, absent counted as zero.
/// * The largest rises and falls are over the rows of clients listed in both periods (new and
///   gone clients have lists of their own), a zero change is neither; ties are broken by client
///   id bytes, then service bytes.
public struct PeriodSpend: Sendable, Equatable {
    public struct Service: Sendable, Equatable {
        public var service: String
        public var net: Money
        public init(service: String, net: Money) {
            self.service = service
            self.net = net
        }
    }

    public struct Client: Sendable, Equatable {
        public var id: String
        public var name: String
        /// By service name, byte order; one entry per service.
        public var services: [Service]
        /// Whether the partner saw the client's money in that period: a client invited and not yet
        /// confirmed is listed with no money, and its spend is shown as unknown, not as zero.
        public var moneyShown: Bool
        public init(id: String, name: String, services: [Service], moneyShown: Bool = true) {
            self.id = id
            self.name = name
            self.services = services.sorted { byteOrder($0.service, $1.service) }
            self.moneyShown = moneyShown
        }
        public var spend: Money { services.reduce(Money.zero) { $0 + $1.net } }
    }

    public var period: ReportPeriod
    /// Every listed client, by id bytes.
    public var clients: [Client]

    public init(period: ReportPeriod, clients: [Client]) {
        self.period = period
        self.clients = clients.sorted { byteOrder($0.id, $1.id) }
    }

    /// What a report of the same ledger lists of a partner, in `currency` (every entry: `nil`).
    public init(_ partner: PartnerReport, period: ReportPeriod, currency: String? = nil) {
        self.init(period: period, clients: partner.clients.filter { currency == nil || $0.currency.bytesEqual(currency!) }.map { client in
            Client(id: client.client.id, name: client.client.name,
                   services: client.services.map { Service(service: $0.service, net: $0.net) },
                   moneyShown: client.movement != nil)
        })
    }
}

/// One row of `changes.csv`: a client and a service, the spend then and now.
public struct ServiceChange: Sendable, Equatable {
    public var clientID: String
    public var clientName: String
    public var service: String
    /// `nil`: the client was not listed then (a new client).
    public var previous: Money?
    /// `nil`: the client is not listed now (a client gone).
    public var current: Money?

    public var change: Money { (current ?? .zero) - (previous ?? .zero) }
}

/// A partner's change since the earlier period.
public struct PartnerComparison: Sendable {
    /// How many rises and falls the summary page shows.
    public static let highlightLimit = 5

    public var previousPeriod: ReportPeriod
    /// By client id bytes, then service bytes.
    public var rows: [ServiceChange]
    /// Indices into `rows`: the largest rises, largest first, and the largest falls, largest first.
    public var rises: [Int]
    public var falls: [Int]
    /// Listed now, not then; listed then, not now (each by id bytes).
    public var newClients: [PeriodSpend.Client]
    public var goneClients: [PeriodSpend.Client]
    /// Spend of every client listed then / now.
    public var previousSpend: Money
    public var currentSpend: Money
    public var change: Money { currentSpend - previousSpend }

    /// The rows of the client with id `id`, in service order (empty when it has none).
    public func rows(ofClient id: String) -> ArraySlice<ServiceChange> {
        // Rows are in client-id byte order: a binary search for the first row of the client.
        let low = Comparison.lowerBound(rows.count) { byteOrder(rows[$0].clientID, id) }
        var end = low
        while end < rows.count && rows[end].clientID.bytesEqual(id) { end += 1 }
        return rows[low..<end]
    }

    /// Whether the client with id `id` is new (listed now, not then).
    public func isNew(_ id: String) -> Bool {
        Comparison.find(id, in: newClients) != nil
    }

    public init(previous: PeriodSpend, current: PeriodSpend) {
        previousPeriod = previous.period
        var rows: [ServiceChange] = []
        var newClients: [PeriodSpend.Client] = []
        var goneClients: [PeriodSpend.Client] = []
        // Both client lists are in id byte order: one merge walk.
        var (p, c) = (0, 0)
        let (then, now) = (previous.clients, current.clients)
        while p < then.count || c < now.count {
            let order: Int
            if p == then.count { order = 1 } else if c == now.count { order = -1 } else { order = Comparison.compare(then[p].id, now[c].id) }
            if order < 0 {
                goneClients.append(then[p])
                rows += then[p].services.map {
                    ServiceChange(clientID: then[p].id, clientName: then[p].name, service: $0.service, previous: $0.net, current: nil)
                }
                p += 1
            } else if order > 0 {
                newClients.append(now[c])
                rows += now[c].services.map {
                    ServiceChange(clientID: now[c].id, clientName: now[c].name, service: $0.service, previous: nil, current: $0.net)
                }
                c += 1
            } else {
                rows += Comparison.merge(then[p], now[c])
                p += 1
                c += 1
            }
        }
        self.rows = rows
        self.newClients = newClients
        self.goneClients = goneClients
        previousSpend = then.reduce(Money.zero) { $0 + $1.spend }
        currentSpend = now.reduce(Money.zero) { $0 + $1.spend }
        let candidates = rows.indices.filter { rows[$0].previous != nil && rows[$0].current != nil && rows[$0].change != .zero }
        func tieBreak(_ a: Int, _ b: Int) -> Bool {
            let (x, y) = (rows[a], rows[b])
            if !x.clientID.bytesEqual(y.clientID) { return byteOrder(x.clientID, y.clientID) }
            return byteOrder(x.service, y.service)
        }
        rises = Array(candidates.filter { rows[$0].change > .zero }
            .sorted { rows[$0].change != rows[$1].change ? rows[$0].change > rows[$1].change : tieBreak($0, $1) }
            .prefix(PartnerComparison.highlightLimit))
        falls = Array(candidates.filter { rows[$0].change < .zero }
            .sorted { rows[$0].change != rows[$1].change ? rows[$0].change < rows[$1].change : tieBreak($0, $1) }
            .prefix(PartnerComparison.highlightLimit))
    }
}

public enum Comparison {
    /// Three-way byte comparison of two ids (never `String ==`: that is canonical equivalence).
    static func compare(_ a: String, _ b: String) -> Int {
        if a.bytesEqual(b) { return 0 }
        return byteOrder(a, b) ? -1 : 1
    }

    static func find(_ id: String, in clients: [PeriodSpend.Client]) -> Int? {
        let low = lowerBound(clients.count) { byteOrder(clients[$0].id, id) }
        return low < clients.count && clients[low].id.bytesEqual(id) ? low : nil
    }

    /// The first index in `0..<count` for which `before` is false (`before` holds for a prefix).
    static func lowerBound(_ count: Int, _ before: (Int) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if before(mid) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The rows of a client listed in both periods: a service missing on one side is zero there.
    static func merge(_ then: PeriodSpend.Client, _ now: PeriodSpend.Client) -> [ServiceChange] {
        var rows: [ServiceChange] = []
        var (p, c) = (0, 0)
        while p < then.services.count || c < now.services.count {
            let order: Int
            if p == then.services.count { order = 1 } else if c == now.services.count { order = -1 } else {
                order = compare(then.services[p].service, now.services[c].service)
            }
            let service = order <= 0 ? then.services[p].service : now.services[c].service
            rows.append(ServiceChange(clientID: now.id, clientName: now.name, service: service,
                                      previous: order <= 0 ? then.services[p].net : .zero,
                                      current: order >= 0 ? now.services[c].net : .zero))
            if order <= 0 { p += 1 }
            if order >= 0 { c += 1 }
        }
        return rows
    }

    /// Sets every partner's comparisons, one per currency (SPEC §2.1: spend of two currencies is
    /// never compared); `previous(partner, currency)` is that partner's earlier period in it (`nil`:
    /// no listed client then, so every client is new). `previousCurrencies(partner)` are the
    /// currencies the partner had then: one it no longer has gets an empty book, whose comparison
    /// lists the clients gone.
    public static func attach(to report: inout RunReport, previousPeriod: ReportPeriod,
                              previousCurrencies: (PartnerReport) -> [String] = { _ in [] },
                              previous: (PartnerReport, String) -> PeriodSpend?) {
        for index in report.partners.indices {
            let partner = report.partners[index]
            var books = partner.currencies
            for code in previousCurrencies(partner) where !books.contains(where: { $0.currency.bytesEqual(code) }) {
                books.append(PartnerCurrency(currency: code, totals: BalanceMovement(), services: []))
            }
            books.sort { byteOrder($0.currency, $1.currency) }
            for book in books.indices {
                let code = books[book].currency
                let then = previous(partner, code) ?? PeriodSpend(period: previousPeriod, clients: [])
                books[book].comparison = PartnerComparison(previous: then, current: PeriodSpend(partner, period: report.period, currency: code))
            }
            report.partners[index].currencies = books
        }
        // A currency only the earlier period had is now one of the run's too: its pages and rows
        // say the currency of every amount, as in any run of several.
        var codes = Set(report.currencies.map { ByteKey($0) })
        for partner in report.partners { for book in partner.currencies { codes.insert(ByteKey(book.currency)) } }
        report.currencies = codes.sorted().map(\.text)
    }

    /// `--compare previous`: the period of equal length before `report.period`, from the same
    /// ledger, with the attachment windows applied to it as to the current one. The inputs cover
    /// it when they hold a transaction (of any client) before the current period starts; without
    /// one the previous period would show as all zeros, so the run is refused instead.
    public static func comparePrevious(_ report: inout RunReport, ledger: Ledger,
                                       workers: Int = processorCount) throws(Diagnostic) {
        let previous: ReportPeriod
        do { previous = try report.period.previous() } catch {
            throw Diagnostic("--compare previous: the period before \(report.period.label) is not a period of real dates")
        }
        let start = report.period.interval.start
        let covered = ledger.clients.values.contains { client in client.firstInstant.map { $0 < start } ?? false }
            || ledger.unknownClientRows.contains { ledger.table.instant($0) < start }
        guard covered else {
            throw Diagnostic("--compare previous: the inputs hold no transaction before \(report.period.firstDay), so they do not cover the previous period \(previous.label); "
                + "give its exports too, or compare with an earlier output (--compare-with DIR)")
        }
        let earlier = ReportBuilder.partnerReports(ledger: ledger, period: previous, runwayDays: report.runwayDays, workers: workers)
        var byPartner: [ByteKey: PartnerReport] = [:]
        for partner in earlier { byPartner[ByteKey(partner.partnerID)] = partner }
        attach(to: &report, previousPeriod: previous,
               previousCurrencies: { byPartner[ByteKey($0.partnerID)]?.currencies.map(\.currency) ?? [] }) { partner, currency in
            byPartner[ByteKey(partner.partnerID)].map { PeriodSpend($0, period: previous, currency: currency) }
        }
    }
}

extension ReportPeriod {
    /// The period of equal length just before this one: a span of whole calendar months (a month,
    /// a quarter, a year, or `--from`/`--to` that happen to cover whole months) → as many months
    /// before it; any other span of N days → the N days before it.
    public func previous() throws(Diagnostic) -> ReportPeriod {
        let lastOfMonth = CivilDate.daysInMonth(year: lastDay.year, month: lastDay.month)
        if firstDay.day == 1 && lastDay.day == lastOfMonth {
            let months = (lastDay.year * 12 + lastDay.month) - (firstDay.year * 12 + firstDay.month) + 1
            let start = firstDay.year * 12 + (firstDay.month - 1) - months
            let first = CivilDate(year: start / 12, month: start % 12 + 1, day: 1)
            guard start >= 12 else { throw Diagnostic("the previous period starts before year 1") }
            return try ReportPeriod(firstDay: first, lastDay: firstDay.adding(days: -1))
        }
        let days = lastDay.daysSinceEpoch - firstDay.daysSinceEpoch + 1
        let first = firstDay.adding(days: -days)
        guard first.year >= 1 else { throw Diagnostic("the previous period starts before year 1") }
        return try ReportPeriod(firstDay: first, lastDay: firstDay.adding(days: -1))
    }
}
