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

/// Tallies by kind × outcome and file × outcome in flat arrays, with the amounts per currency
/// (`slot`: a number of the run's table's currencies, then those only the summary sees), and the
/// accepted totals.
struct OutcomeCounts: Sendable {
    static let outcomes = Outcome.allCases.count
    static let kindsOutcomes = RecordKind.allCases.count * Outcome.allCases.count
    let files: Int
    var byKind: [Int]
    var byFile: [Int]
    /// `[slot][kind × outcome]` and `[slot][file × outcome]`, made as slots are first used.
    var kindAmounts: [[Money]] = []
    var fileAmounts: [[Money]] = []
    /// Per slot.
    var accepted: [KindTotals] = []

    init(files: Int) {
        self.files = files
        byKind = [Int](repeating: 0, count: OutcomeCounts.kindsOutcomes)
        byFile = [Int](repeating: 0, count: files * Outcome.allCases.count)
    }

    private mutating func ensure(_ slot: Int) {
        while kindAmounts.count <= slot {
            kindAmounts.append([Money](repeating: .zero, count: OutcomeCounts.kindsOutcomes))
            fileAmounts.append([Money](repeating: .zero, count: files * OutcomeCounts.outcomes))
            accepted.append(KindTotals())
        }
    }

    /// Counts a record; its amount (if any) is in currency `slot`.
    mutating func count(_ kind: RecordKind, _ outcome: Outcome, _ source: SourceLocation, _ amount: Money?, slot: Int = 0) {
        let k = kind.ordinal * OutcomeCounts.outcomes + outcome.ordinal
        let f = Int(source.file) * OutcomeCounts.outcomes + outcome.ordinal
        byKind[k] += 1
        byFile[f] += 1
        guard let amount else { return }
        ensure(slot)
        kindAmounts[slot][k] += amount
        fileAmounts[slot][f] += amount
    }

    mutating func accept(_ kind: TransactionKind, _ amount: Money, slot: Int) {
        ensure(slot)
        accepted[slot].add(kind, amount)
    }

    mutating func merge(_ other: OutcomeCounts) {
        for index in byKind.indices { byKind[index] += other.byKind[index] }
        for index in byFile.indices { byFile[index] += other.byFile[index] }
        if !other.kindAmounts.isEmpty { ensure(other.kindAmounts.count - 1) }
        for slot in other.kindAmounts.indices {
            for index in kindAmounts[slot].indices { kindAmounts[slot][index] += other.kindAmounts[slot][index] }
            for index in fileAmounts[slot].indices { fileAmounts[slot][index] += other.fileAmounts[slot][index] }
            accepted[slot].topups += other.accepted[slot].topups
            accepted[slot].charges += other.accepted[slot].charges
            accepted[slot].refunds += other.accepted[slot].refunds
        }
    }

    /// The tally of kind × outcome `k` (or file × outcome, `byFile`), amounts by currency code.
    func tally(_ index: Int, byFile file: Bool, codes: [String]) -> Tally {
        var tally = Tally()
        tally.count = file ? byFile[index] : byKind[index]
        let amounts = file ? fileAmounts : kindAmounts
        for slot in amounts.indices where tally.count > 0 && amounts[slot][index] != .zero {
            tally.amounts.add(amounts[slot][index], codes[slot])
        }
        return tally
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

/// A count of records and the sums of their amounts (as written, unsigned), per currency.
public struct Tally: Sendable, Equatable {
    public var count = 0
    public var amounts = CurrencyAmounts()

    public init() {}

    package mutating func add(_ amount: Money?, _ currency: String) {
        count += 1
        if let amount { amounts.add(amount, currency) }
    }

    package mutating func merge(_ other: Tally) {
        count += other.count
        amounts = amounts + other.amounts
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
