import BalanceModel
import BalanceSupport

/// What became of an input record. Every record ends in exactly one.
public enum Outcome: String, Sendable, CaseIterable, Codable {
    /// Shown in a partner's report (transactions), or taken into the model (clients, events).
    case accepted
    /// An identical repeat of an earlier record (overlapping exports): counted once.
    case duplicate
    /// Not valid; listed with `file:line: reason`.
    case rejected
    /// A transaction outside the period.
    case outsidePeriod = "outside_period"
    /// A transaction of a known client at a moment it was not attached to its partner.
    case outsideAttachment = "outside_attachment"
    /// A transaction or event of a client no clients record names.
    case unknownClient = "unknown_client"
    /// A row of a day that a later export of the same day replaces (the Yandex Cloud partner
    /// report re-exports a day): counted with its amount, never summed twice.
    case superseded
}

/// Tallies by kind × outcome and file × outcome in flat arrays, and the accepted totals.
struct OutcomeCounts: Sendable {
    static let outcomes = Outcome.allCases.count
    var byKind: [Tally]
    var byFile: [Tally]
    var accepted = KindTotals()

    init(files: Int) {
        byKind = [Tally](repeating: Tally(), count: RecordKind.allCases.count * Outcome.allCases.count)
        byFile = [Tally](repeating: Tally(), count: files * Outcome.allCases.count)
    }

    mutating func count(_ kind: RecordKind, _ outcome: Outcome, _ source: SourceLocation, _ amount: Money?) {
        byKind[kind.ordinal * OutcomeCounts.outcomes + outcome.ordinal].add(amount)
        byFile[Int(source.file) * OutcomeCounts.outcomes + outcome.ordinal].add(amount)
    }

    mutating func merge(_ other: OutcomeCounts) {
        for index in byKind.indices { byKind[index].merge(other.byKind[index]) }
        for index in byFile.indices { byFile[index].merge(other.byFile[index]) }
        accepted.topups += other.accepted.topups
        accepted.charges += other.accepted.charges
        accepted.refunds += other.accepted.refunds
    }
}

extension Outcome {
    /// Position in `allCases`, for flat counting arrays.
    var ordinal: Int {
        switch self {
        case .accepted: return 0
        case .duplicate: return 1
        case .rejected: return 2
        case .outsidePeriod: return 3
        case .outsideAttachment: return 4
        case .unknownClient: return 5
        case .superseded: return 6
        }
    }
}

extension RecordKind {
    /// Position in `allCases`, for flat counting arrays.
    var ordinal: Int {
        switch self {
        case .transaction: return 0
        case .client: return 1
        case .event: return 2
        }
    }
}

/// A count of records and the sum of their amounts (as written, unsigned).
public struct Tally: Sendable, Equatable {
    public var count = 0
    public var amount = Money.zero

    public init() {}

    package mutating func add(_ amount: Money?) {
        count += 1
        if let amount { self.amount += amount }
    }

    package mutating func merge(_ other: Tally) {
        count += other.count
        amount += other.amount
    }
}

/// Top-ups, charges and refunds summed separately.
public struct KindTotals: Sendable, Equatable {
    public var topups = Money.zero
    public var charges = Money.zero
    public var refunds = Money.zero

    public init() {}

    mutating func add(_ transaction: Transaction) {
        add(transaction.kind, transaction.amount)
    }

    mutating func add(_ kind: TransactionKind, _ amount: Money) {
        switch kind {
        case .topup: topups += amount
        case .charge: charges += amount
        case .refund: refunds += amount
        }
    }

    /// The totals of a client's detail lines.
    init(_ detail: DetailLines) {
        self.init()
        for index in detail.indices { add(detail.kind(index), detail.amount(index)) }
    }
}
