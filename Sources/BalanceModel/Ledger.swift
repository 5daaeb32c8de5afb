import BalanceSupport
import Dispatch
import Synchronization

/// A client with its history and its own transactions, in the order balances are counted.
public struct LedgerClient: Sendable {
    public var record: ClientRecord
    public var timeline: ClientTimeline
    /// Sorted by instant, ties by id byte-wise (SPEC §3).
    public var transactions: ClientTransactions
    /// The events that made the timeline (duplicates and illegal transitions left out), in time order.
    public var events: [ClientEvent]
}

/// The run's transaction table once the ledger has laid it out: shared by every client, report
/// line and page, and never changed again. A class with one `let`, so that handing it around costs
/// one reference count (a copy of the table struct would retain each of its columns, and two
/// threads retaining the same columns for every client contend for them).
public final class TransactionStore: Sendable {
    public let table: TransactionTable

    public init(_ table: consuming TransactionTable) { self.table = table }
}

/// One client's transactions in balance order: a contiguous run of rows of the run's table.
///
/// The ledger lays the table out client by client in balance order, so a client is a range of
/// rows, read front to back.
public struct ClientTransactions: RandomAccessCollection, Sendable {
    public let store: TransactionStore
    /// The client's rows of the table.
    public let rows: Range<Int>

    public init(store: TransactionStore, rows: Range<Int>) {
        self.store = store
        self.rows = rows
    }

    public init(_ transactions: [Transaction]) {
        self.init(store: TransactionStore(TransactionTable(transactions)), rows: 0..<transactions.count)
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { rows.count }

    /// The row number of the `index`-th transaction.
    @inlinable @inline(__always) public func row(_ index: Int) -> Int { rows.lowerBound + index }

    public subscript(index: Int) -> Transaction { store.table[row(index)] }

    @inlinable @inline(__always) public func instant(_ index: Int) -> Instant { store.table.instant(row(index)) }
    @inlinable @inline(__always) public func kind(_ index: Int) -> TransactionKind { store.table.kind(row(index)) }
    @inlinable @inline(__always) public func amount(_ index: Int) -> Money { store.table.amount(row(index)) }
    @inlinable @inline(__always) public func net(_ index: Int) -> Money { store.table.net(row(index)) }
    @inlinable @inline(__always) public func source(_ index: Int) -> SourceLocation { store.table.source(row(index)) }
}

/// A record that repeats an earlier one with identical facts (overlapping exports).
public struct Duplicate: Sendable, Equatable {
    public var kind: RecordKind
    public var source: SourceLocation
    public var original: SourceLocation
    public var amount: Money?

    public init(kind: RecordKind, source: SourceLocation, original: SourceLocation, amount: Money?) {
        self.kind = kind
        self.source = source
        self.original = original
        self.amount = amount
    }
}

/// A problem with the run as a whole, which no `--allow-rejects` can get past.
public enum LedgerError: Error, Equatable, Sendable {
    /// SPEC §2.1: one run has one currency. Carries each currency with where it first appears.
    case mixedCurrencies([(currency: String, source: SourceLocation)])

    public static func == (a: LedgerError, b: LedgerError) -> Bool {
        switch (a, b) {
        case let (.mixedCurrencies(x), .mixedCurrencies(y)):
            return x.map(\.currency) == y.map(\.currency) && x.map(\.source) == y.map(\.source)
        }
    }
}

/// The validated, deduplicated facts of a run: the boundary between Model and Report.
public struct Ledger: Sendable {
    public var currency: String
    /// Clients by id, each with its timeline and transactions.
    public var clients: [ByteKey: LedgerClient]
    /// Every transaction of the run (the clients' ranges point into it).
    public var store: TransactionStore
    public var table: TransactionTable { store.table }
    /// Rows of transactions whose client no clients record names: nobody's report shows them.
    public var unknownClientRows: Range<Int>
    /// Events whose client no clients record names.
    public var unknownClientEvents: [ClientEvent]
    public var duplicates: [Duplicate]
    /// Ingest rejections plus the ones found here (conflicting duplicates, illegal transitions).
    public var rejections: [Rejection]

    /// Transactions whose client no clients record names, as values (they are few; tests and the
    /// run summary's naming of unknown clients read them).
    public var unknownClientTransactions: [Transaction] { unknownClientRows.map { table[$0] } }

    /// Builds the ledger from what Ingest read. Pure: same export, same ledger.
    public static func build(from export: IngestedExport, workers: Int = 1) throws(LedgerError) -> Ledger {
        var rest = export
        var transactions = TransactionTable()
        swap(&transactions, &rest.transactions)
        return try build(from: rest, transactions: transactions, workers: workers)
    }

    /// Builds the ledger, taking ownership of `transactions` (those of `export` are ignored):
    /// the table is moved into place, never copied. Balance order is sorted on up to `workers` threads.
    public static func build(from export: IngestedExport, transactions: consuming TransactionTable,
                             workers: Int = 1) throws(LedgerError) -> Ledger {
        var rejections = export.rejections
        var duplicates: [Duplicate] = []
        func location(_ source: SourceLocation) -> String { export.location(source) }

        // Transactions, first pass: identical repeats count once; the same id with other facts
        // rejects every record of that id.
        let table = consume transactions
        var (fates, conflicted) = transactionFates(table, workers: workers)
        let currency = try singleCurrency(table, fates)

        // Clients: identical repeats count once; conflicting records reject both.
        var records: [ByteKey: ClientRecord] = [:]
        var conflictedClients: [ByteKey: [SourceLocation]] = [:]
        for client in export.clients {
            if let original = records[ByteKey(client.id)] {
                if original.sameFacts(as: client) {
                    duplicates.append(Duplicate(kind: .client, source: client.source, original: original.source, amount: nil))
                } else {
                    conflictedClients[ByteKey(client.id), default: []].append(client.source)
                    rejections.append(Rejection(source: client.source, kind: .client,
                                                reason: "client \(client.id) conflicts with \(location(original.source))",
                                                recordID: client.id))
                }
            } else {
                records[ByteKey(client.id)] = client
            }
        }
        for id in conflictedClients.keys.sorted() {
            let original = records.removeValue(forKey: id)!
            rejections.append(Rejection(source: original.source, kind: .client,
                                        reason: "client \(id) conflicts with \(Ledger.listed(conflictedClients[id]!, location))",
                                        recordID: id.text))
        }

        // Without any clients record, every client found in the transactions is the default partner's.
        // A clients record Ingest rejected still counts: its clients must not fall to `default`.
        // So does a clients file without rows.
        let noClientRecords = export.clients.isEmpty && !export.hasFile(of: .client)
            && !export.rejections.contains { $0.isRecord && $0.kind == .client }
        // A layout that names its clients in the rows (`clients_from_rows`) gives their names and partners.
        if noClientRecords {
            var derived: [ByteKey: ClientRecord] = [:]
            for client in export.derivedClients where derived[ByteKey(client.id)] == nil { derived[ByteKey(client.id)] = client }
            // Each client once, from its first kept row.
            var seen = [Bool](repeating: false, count: table.clientNames.count)
            for row in 0..<table.count where fates[row] == keep && !seen[Int(table.client(row))] {
                seen[Int(table.client(row))] = true
                let name = table.clientID(row)
                let id = ByteKey(name)
                if records[id] == nil {
                    records[id] = derived[id].map(RowPartnerKey.shown) ?? ClientRecord(id: name, name: "", email: "", phone: "",
                                                              partnerID: "default", checkpoint: nil, source: table.source(row))
                }
            }
        }

        // Events: identical repeats count once; then each client's history through the state machine.
        var eventsByClient: [ByteKey: [ClientEvent]] = [:]
        var unknownEvents: [ClientEvent] = []
        // One hash lookup per event: a client with 90,000 block/unblock events stays linear.
        var seenEvents: [EventFacts: SourceLocation] = [:]
        for event in export.events {
            let facts = EventFacts(client: ByteKey(event.clientID), instant: event.instant, kind: event.kind)
            if let original = seenEvents[facts] {
                duplicates.append(Duplicate(kind: .event, source: event.source, original: original, amount: nil))
                continue
            }
            seenEvents[facts] = event.source
            if records[facts.client] == nil || noClientRecords {
                unknownEvents.append(event)
            } else {
                eventsByClient[facts.client, default: []].append(event)
            }
        }
        // An event record Ingest rejected still makes a run with events: nobody is attached by default then.
        let runHasEvents = (!export.events.isEmpty || export.hasFile(of: .event) || export.rejections.contains { $0.isRecord && $0.kind == .event })
            && !noClientRecords
        var ledgerClients: [(id: ByteKey, client: LedgerClient)] = []
        ledgerClients.reserveCapacity(records.count)
        let none = ClientTransactions([])
        for (id, record) in records {
            var timeline = ClientTimeline.alwaysAttached
            var accepted: [ClientEvent] = []
            if runHasEvents {
                let events = (eventsByClient[id] ?? []).sorted {
                    $0.instant != $1.instant ? $0.instant < $1.instant : $0.kind.sameInstantRank < $1.kind.sameInstantRank
                }
                let (replayed, illegal) = ClientTimeline.replay(events)
                timeline = replayed
                // `illegal` is a subsequence of `events`; match it by position, not by source
                // (records of a one-line XML export share their source location).
                var pending = illegal.map(\.0)[...]
                accepted = events.filter { event in
                    guard let next = pending.first, next == event else { return true }
                    pending.removeFirst()
                    return false
                }
                for (event, problem) in illegal {
                    rejections.append(Rejection(source: event.source, kind: .event,
                                                reason: "\(problem) (client \(id))", recordID: id.text))
                }
            }
            ledgerClients.append((id, LedgerClient(record: record, timeline: timeline, transactions: none, events: accepted)))
        }

        // Second pass: each kept row to its client. A client number of the table (one per distinct
        // client id) maps to the ledger client once; then the rows are grouped by a counting pass,
        // with no hash lookup per row.
        var bucketOfName = [Int32](repeating: -1, count: table.clientNames.count)
        do {
            var index: [ByteKey: Int32] = [:]
            index.reserveCapacity(ledgerClients.count)
            for (number, entry) in ledgerClients.enumerated() { index[entry.id] = Int32(number) }
            for n in table.clientNames.names.indices {
                // A row-partner key (`RowPartnerKey`) is its client's own where a clients file names it.
                let name = table.clientNames.names[n]
                bucketOfName[n] = index[ByteKey(name)] ?? RowPartnerKey.decode(name).flatMap { index[ByteKey($0.client)] } ?? -1
            }
        }
        var offsets = [Int](repeating: 0, count: ledgerClients.count + 1)
        var unknownRows: [UInt32] = []
        for row in 0..<table.count {
            switch fates[row] {
            case keep:
                let bucket = bucketOfName[Int(table.client(row))]
                if bucket >= 0 { offsets[Int(bucket) + 1] += 1 } else { unknownRows.append(UInt32(row)) }
            case let first where first >= 0:
                duplicates.append(Duplicate(kind: .transaction, source: table.source(row),
                                            original: table.source(Int(first)), amount: table.amount(row)))
            default:
                let id = table.id(row)
                let (first, sources) = conflicted[ByteKey(id)]!
                let others = Ledger.listed(sources.filter { $0 != table.source(row) }, location)
                // A later record also says how it differs from the first.
                let difference = first < row ? " (\(table.differences(first, row)))" : ""
                rejections.append(Rejection(
                    source: table.source(row), kind: .transaction,
                    reason: "transaction id \(id) conflicts with \(others)\(difference)",
                    recordID: id, amount: table.amount(row)))
            }
        }
        for bucket in ledgerClients.indices { offsets[bucket + 1] += offsets[bucket] }
        var order = [UInt32](repeating: 0, count: offsets[ledgerClients.count])
        var next = offsets
        for row in 0..<table.count where fates[row] == keep {
            let bucket = bucketOfName[Int(table.client(row))]
            guard bucket >= 0 else { continue }
            order[next[Int(bucket)]] = UInt32(row)
            next[Int(bucket)] += 1
        }
        // Balance order within each client's slice, on every core: clients split into lanes of
        // about equal row counts. Exports mostly come in time order already, and then nothing moves.
        fates = []   // not needed past here: room for the layout below
        sortSlices(&order, offsets: offsets, table: table, workers: workers)
        // The table laid out in that order: each client's transactions one contiguous run, then
        // the unknown clients' (duplicates and conflicts are accounted for above and dropped).
        let kept = order.count
        order.append(contentsOf: unknownRows)
        var laidOut = consume table
        laidOut.gather(order, workers: workers)
        order = []
        let store = TransactionStore(laidOut)

        var clients: [ByteKey: LedgerClient] = [:]
        clients.reserveCapacity(ledgerClients.count)
        for (bucket, entry) in ledgerClients.enumerated() {
            var client = entry.client
            client.transactions = ClientTransactions(store: store, rows: offsets[bucket]..<offsets[bucket + 1])
            clients[entry.id] = client
        }
        return Ledger(currency: currency, clients: clients, store: store,
                      unknownClientRows: kept..<store.table.count, unknownClientEvents: unknownEvents,
                      duplicates: duplicates, rejections: rejections)
    }

    /// The order balances are counted in: instant, then id byte-wise.
    public static func balanceOrder(_ a: Transaction, _ b: Transaction) -> Bool {
        if a.instant != b.instant { return a.instant < b.instant }
        return a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
    }
}
