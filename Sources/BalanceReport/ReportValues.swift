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
    @usableFromInline private(set) var store: TransactionStore
    @usableFromInline private(set) var rows: [UInt32]
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

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { rows.count }

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
    @inlinable @inline(__always) public func instant(_ index: Int) -> Instant { store.table.instant(Int(rows[index])) }
    @inlinable @inline(__always) public func kind(_ index: Int) -> TransactionKind { store.table.kind(Int(rows[index])) }
    @inlinable @inline(__always) public func amount(_ index: Int) -> Money { store.table.amount(Int(rows[index])) }
    @inlinable @inline(__always) public func net(_ index: Int) -> Money { store.table.net(Int(rows[index])) }
    @inlinable @inline(__always) public func balanceAfter(_ index: Int) -> Money { balances[index] }
    @inlinable public func id(_ index: Int) -> String { store.table.id(Int(rows[index])) }
    @inlinable public func service(_ index: Int) -> String { store.table.serviceName(Int(rows[index])) }
    @inlinable public func description(_ index: Int) -> String { store.table.description(Int(rows[index])) }

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

    public init(date: CivilDate, service: String, net: Money) {
        self.date = date
        self.service = service
        self.net = net
    }
}
