import BalanceSupport
import Dispatch
import Synchronization

extension Ledger {
    /// Sorts each client's slice of `order` into balance order: instant, then id byte-wise.
    static func sortSlices(_ order: inout [UInt32], offsets: [Int], table: TransactionTable, workers: Int) {
        let clientCount = offsets.count - 1
        guard clientCount > 0, !order.isEmpty else { return }
        let lanes = max(1, min(workers, clientCount))
        // Lane k takes the clients whose slices start in its share of the rows.
        var bounds = [0]
        for lane in 1..<lanes {
            let target = order.count * lane / lanes
            var client = bounds.last!
            while client < clientCount && offsets[client] < target { client += 1 }
            bounds.append(client)
        }
        bounds.append(clientCount)
        let laneBounds = bounds
        order.withUnsafeMutableBufferPointer { buffer in
            // Lanes write disjoint ranges of the buffer.
            nonisolated(unsafe) let rows = buffer
            let sortLane = { @Sendable (lane: Int) in
                // One 128-bit key a row: the instant (seconds with the sign bit flipped, so that
                // unsigned order is time order; then nanoseconds) above the row number. Sorting
                // plain integers needs no comparison closure; ties of one instant, rare, are then
                // put in id order (SPEC §3) run by run.
                var keys: [UInt128] = []
                for client in laneBounds[lane]..<laneBounds[lane + 1] {
                    let range = offsets[client]..<offsets[client + 1]
                    guard range.count > 1 else { continue }
                    keys.removeAll(keepingCapacity: true)
                    for position in range {
                        let row = Int(rows[position])
                        let seconds = UInt64(bitPattern: table.seconds[row]) ^ (1 << 63)
                        keys.append(UInt128(seconds) << 64 | UInt128(UInt32(bitPattern: table.nanoseconds[row])) << 32 | UInt128(row))
                    }
                    if zip(keys, keys.dropFirst()).allSatisfy({ $0 < $1 }) {
                        // Already in instant order; only ties need a look.
                    } else {
                        keys.sort()
                    }
                    var start = 0
                    while start < keys.count {
                        var end = start + 1
                        while end < keys.count && keys[end] >> 32 == keys[start] >> 32 { end += 1 }
                        if end - start > 1 {
                            keys[start..<end].sort { table.idPrecedes(Int(UInt32(truncatingIfNeeded: $0)), Int(UInt32(truncatingIfNeeded: $1))) }
                        }
                        start = end
                    }
                    for (offset, key) in keys.enumerated() { rows[range.lowerBound + offset] = UInt32(truncatingIfNeeded: key) }
                }
            }
            if lanes == 1 {
                sortLane(0)
            } else {
                DispatchQueue.concurrentPerform(iterations: lanes, execute: sortLane)
            }
        }
    }

    /// The first few places, and how many more: a reason names where to look without growing
    /// with the square of the records (3,000 records of one id would each list 2,999 others).
    static func listed(_ sources: [SourceLocation], _ location: (SourceLocation) -> String) -> String {
        let shown = sources.prefix(listedPlaces).map(location).joined(separator: ", ")
        return sources.count > listedPlaces ? shown + " and \(sources.count - listedPlaces) more" : shown
    }

    static let listedPlaces = 5

    /// Everything an event record states: two records with the same facts are one event.
    struct EventFacts: Hashable {
        var client: ByteKey
        var instant: Instant
        var kind: ClientEventKind
    }
}
