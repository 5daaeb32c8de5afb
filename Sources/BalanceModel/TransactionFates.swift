import BalanceSupport
import Dispatch
import Synchronization

extension Ledger {
    /// What becomes of a transaction record, in four bytes a row: `keep`, `conflict` (one of
    /// several records of an id with different facts), or the row it identically repeats (≥ 0).
    typealias Fate = Int32
    static let keep: Fate = -1
    static let conflict: Fate = -2

    /// Decides each record's fate, and where the records of each conflicting id are.
    /// Duplicates of a conflicting id stay duplicates: rejecting them too would count an amount twice.
    static func transactionFates(_ table: TransactionTable, workers: Int = 1) -> ([Fate], [ByteKey: (first: Int, sources: [SourceLocation])]) {
        var fates = [Fate](repeating: keep, count: table.count)
        // Ids split over the lanes by their hash: every record of one id is in one lane, which
        // sees them in row order, so "the first record of an id" is the same on any number of lanes.
        let lanes = max(1, min(workers, table.count / 100_000 + 1))
        let seed = UInt64.random(in: 0...UInt64.max)
        let found = Mutex<[[ByteKey: (first: Int, sources: [SourceLocation])]]>(Array(repeating: [:], count: lanes))
        fates.withUnsafeMutableBufferPointer { buffer in
            // Lanes write disjoint rows.
            nonisolated(unsafe) let fates = buffer
            let lane = { @Sendable (lane: Int) in
                var firstByID = IDTable(capacity: table.count / lanes + table.count / (4 * lanes) + 16, seed: seed)
                var conflicted: [ByteKey: (first: Int, sources: [SourceLocation])] = [:]
                for row in 0..<table.count {
                    let hash = table.withID(row) { ByteHash.seeded(UnsafeRawBufferPointer($0), seed: seed) }
                    guard lanes == 1 || Int(hash & 0xFFFF) % lanes == lane else { continue }
                    guard let first = firstByID.insertOrFind(row, hash: hash, in: table) else { continue }
                    if table.sameFacts(first, row) {
                        fates[row] = Fate(first)
                    } else {
                        fates[row] = conflict
                        let id = ByteKey(table.id(row))
                        if conflicted[id] == nil {
                            conflicted[id] = (first, [table.source(first)])
                            fates[first] = conflict
                        }
                        conflicted[id]!.sources.append(table.source(row))
                    }
                }
                found.withLock { $0[lane] = conflicted }
            }
            if lanes == 1 { lane(0) } else { DispatchQueue.concurrentPerform(iterations: lanes, execute: lane) }
        }
        var conflicted: [ByteKey: (first: Int, sources: [SourceLocation])] = [:]
        for part in found.withLock({ $0 }) { conflicted.merge(part) { a, _ in a } }
        return (fates, conflicted)
    }

    /// The first row of each transaction id: open addressing over a seeded hash of the id's
    /// bytes. The per-run seed keeps crafted ids from piling into one chain.
    struct IDTable {
        /// Each slot: the row + 1 in the high 32 bits, 32 bits of the id's hash in the low ones,
        /// so a probe rarely has to look at the (cache-cold) id itself. 0 is empty.
        private var slots: [UInt64]
        private var count = 0
        private let seed: UInt64

        init(capacity: Int, seed: UInt64) {
            // Two thirds full at most (no rounding up to a power of two, which at 100M rows would
            // cost a gigabyte more): 12 bytes a row. It grows past that, so no split of the ids
            // over lanes can fill it.
            slots = [UInt64](repeating: 0, count: Swift.max(16, capacity + capacity / 2))
            self.seed = seed
        }

        /// Records `row` as the first of its id, or returns the row that came first. `hash` is
        /// the id's `ByteHash.seeded` under this table's seed.
        mutating func insertOrFind(_ row: Int, hash: UInt64, in table: TransactionTable) -> Int? {
            let fingerprint = hash & 0xFFFF_FFFF
            var slot = IDTable.start(hash, slots.count)
            while true {
                let entry = slots[slot]
                if entry == 0 {
                    slots[slot] = (UInt64(row + 1) << 32) | fingerprint
                    count += 1
                    if count * 3 > slots.count * 2 { grow(table) }
                    return nil
                }
                if entry & 0xFFFF_FFFF == fingerprint {
                    let existing = Int(entry >> 32) - 1
                    if table.sameID(existing, row) { return existing }
                }
                slot += 1
                if slot == slots.count { slot = 0 }
            }
        }

        /// The high half of the hash scaled to the table's size: an id's first slot.
        @inline(__always) static func start(_ hash: UInt64, _ size: Int) -> Int {
            let scaled: UInt64 = (hash >> 32) &* UInt64(size)
            return Int(truncatingIfNeeded: scaled >> 32)
        }

        private mutating func grow(_ table: TransactionTable) {
            var larger = [UInt64](repeating: 0, count: slots.count * 2)
            for entry in slots where entry != 0 {
                let row = Int(entry >> 32) - 1
                let hash = table.withID(row) { ByteHash.seeded(UnsafeRawBufferPointer($0), seed: seed) }
                var slot = IDTable.start(hash, larger.count)
                while larger[slot] != 0 { slot = slot + 1 == larger.count ? 0 : slot + 1 }
                larger[slot] = entry
            }
            slots = larger
        }
    }
}
