import BalanceSupport
import Dispatch
import Synchronization

/// A client with its history and its own transactions, in the order balances are counted.
public struct LedgerClient: Sendable {
    public var record: ClientRecord
    public var timeline: ClientTimeline
    /// Every transaction of the client: its accounts' rows, one account after another.
    public var transactions: ClientTransactions
    /// The client's money, one account per currency (SPEC §2.1: never added across currencies), by
    /// currency code bytes. Empty for a client without transactions or a balance checkpoint.
    public var accounts: [CurrencyAccount] = []
    /// The events that made the timeline (duplicates and illegal transitions left out), in time order.
    public var events: [ClientEvent]

    public init(record: ClientRecord, timeline: ClientTimeline, transactions: ClientTransactions,
                accounts: [CurrencyAccount] = [], events: [ClientEvent]) {
        self.record = record
        self.timeline = timeline
        self.transactions = transactions
        self.accounts = accounts
        self.events = events
    }

    /// The earliest moment of any of the client's transactions.
    public var firstInstant: Instant? {
        accounts.compactMap { $0.transactions.isEmpty ? nil : $0.transactions.instant(0) }.min()
    }
}

/// A client's money in one currency: its own balance, checkpoint and transactions.
public struct CurrencyAccount: Sendable {
    public var currency: String
    /// Sorted by instant, ties by id byte-wise (SPEC §3).
    public var transactions: ClientTransactions
    /// The client's balance checkpoint when it is in this currency.
    public var checkpoint: BalanceCheckpoint?

    public init(currency: String, transactions: ClientTransactions, checkpoint: BalanceCheckpoint? = nil) {
        self.currency = currency
        self.transactions = transactions
        self.checkpoint = checkpoint
    }
}

/// The run's transaction table once the ledger has laid it out: shared by every client, report
/// line and page, and never changed again. A class with one `let`, so that handing it around costs
/// one reference count (a copy of the table struct would retain each of its columns, and two
/// threads retaining the same columns for every client contend for them).
public final class TransactionStore: Sendable {
    public let table: TransactionTable

    public init(_ table: consuming TransactionTable) { self.table = table }
}

/// An account's (or a client's) transactions: a contiguous run of rows of the run's table.
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
    public var currency: String

    public init(kind: RecordKind, source: SourceLocation, original: SourceLocation, amount: Money?, currency: String = "RUB") {
        self.kind = kind
        self.source = source
        self.original = original
        self.amount = amount
        self.currency = currency
    }
}

/// The validated, deduplicated facts of a run: the boundary between Model and Report.
public struct Ledger: Sendable {
    /// Every currency of the run's transactions and balance checkpoints, by code bytes (SPEC §2.1:
    /// a run may hold several, and nothing of two is ever added, compared or subtracted).
    public var currencies: [String]
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
    public static func build(from export: IngestedExport, workers: Int = 1) -> Ledger {
        var rest = export
        var transactions = TransactionTable()
        swap(&transactions, &rest.transactions)
        return build(from: rest, transactions: transactions, workers: workers)
    }

    /// Builds the ledger, taking ownership of `transactions` (those of `export` are ignored):
    /// the table is moved into place, never copied. Balance order is sorted on up to `workers` threads.
    public static func build(from export: IngestedExport, transactions: consuming TransactionTable,
                             workers: Int = 1) -> Ledger {
        var rejections = export.rejections
        var duplicates: [Duplicate] = []
        func location(_ source: SourceLocation) -> String { export.location(source) }

        // Transactions, first pass: identical repeats count once; the same id with other facts
        // rejects every record of that id.
        let table = consume transactions
        var (fates, conflicted) = transactionFates(table, workers: workers)

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
        // Each client's money is one account per currency (one account per client in a run of one
        // currency); a client whose checkpoint names no currency while its rows hold several is refused.
        var (layout, unplaced) = AccountLayout.make(table: table, keep: { [fates] in fates[$0] == keep },
                                                    clientOfName: bucketOfName, records: ledgerClients.map(\.client.record))
        var dropped = [Bool](repeating: false, count: ledgerClients.count)
        for entry in unplaced {
            dropped[entry.client] = true
            let record = ledgerClients[entry.client].client.record
            rejections.append(Rejection(source: record.source, kind: .client,
                                        reason: "client \(record.id) has money in \(entry.currencies.joined(separator: " and ")) but its balance checkpoint names no currency: add balance_currency",
                                        recordID: record.id))
            unknownEvents += ledgerClients[entry.client].client.events
        }
        if !unplaced.isEmpty {
            for n in bucketOfName.indices where bucketOfName[n] >= 0 && dropped[Int(bucketOfName[n])] { bucketOfName[n] = -1 }
            layout = AccountLayout.make(table: table, keep: { [fates] in fates[$0] == keep }, clientOfName: bucketOfName,
                                        records: ledgerClients.map(\.client.record)).layout
        }
        var offsets = [Int](repeating: 0, count: layout.accountCount + 1)
        var unknownRows: [UInt32] = []
        for row in 0..<table.count {
            switch fates[row] {
            case keep:
                let bucket = bucketOfName[Int(table.client(row))]
                if bucket >= 0 {
                    offsets[layout.account(row: row, client: Int(bucket), table: table) + 1] += 1
                } else {
                    unknownRows.append(UInt32(row))
                }
            case let first where first >= 0:
                duplicates.append(Duplicate(kind: .transaction, source: table.source(row),
                                            original: table.source(Int(first)), amount: table.amount(row),
                                            currency: table.currencyCode(row)))
            default:
                let id = table.id(row)
                let (first, sources) = conflicted[ByteKey(id)]!
                let others = Ledger.listed(sources.filter { $0 != table.source(row) }, location)
                // A later record also says how it differs from the first.
                let difference = first < row ? " (\(table.differences(first, row)))" : ""
                rejections.append(Rejection(
                    source: table.source(row), kind: .transaction,
                    reason: "transaction id \(id) conflicts with \(others)\(difference)",
                    recordID: id, amount: table.amount(row), currency: table.currencyCode(row)))
            }
        }
        for account in 0..<layout.accountCount { offsets[account + 1] += offsets[account] }
        var order = [UInt32](repeating: 0, count: offsets[layout.accountCount])
        var next = offsets
        for row in 0..<table.count where fates[row] == keep {
            let bucket = bucketOfName[Int(table.client(row))]
            guard bucket >= 0 else { continue }
            let account = layout.account(row: row, client: Int(bucket), table: table)
            order[next[account]] = UInt32(row)
            next[account] += 1
        }
        // Balance order within each account's slice, on every core: accounts split into lanes of
        // about equal row counts. Exports mostly come in time order already, and then nothing moves.
        fates = []   // not needed past here: room for the layout below
        sortSlices(&order, offsets: offsets, table: table, workers: workers)
        // The table laid out in that order: each account's transactions one contiguous run, a
        // client's accounts one after another, then the unknown clients' (duplicates and conflicts
        // are accounted for above and dropped).
        let kept = order.count
        order.append(contentsOf: unknownRows)
        var laidOut = consume table
        laidOut.gather(order, workers: workers)
        order = []
        let store = TransactionStore(laidOut)

        var clients: [ByteKey: LedgerClient] = [:]
        clients.reserveCapacity(ledgerClients.count)
        for (bucket, entry) in ledgerClients.enumerated() where !dropped[bucket] {
            var client = entry.client
            let accounts = layout.accountBase[bucket]..<layout.accountBase[bucket + 1]
            client.transactions = ClientTransactions(store: store, rows: offsets[accounts.lowerBound]..<offsets[accounts.upperBound])
            client.accounts = accounts.map { account in
                let currency = layout.currencies[Int(layout.accountCurrency[account])]
                let checkpoint = layout.checkpoints[bucket].flatMap { $0.currency.map { $0.bytesEqual(currency) } == true ? $0 : nil }
                return CurrencyAccount(currency: currency,
                                       transactions: ClientTransactions(store: store, rows: offsets[account]..<offsets[account + 1]),
                                       checkpoint: checkpoint)
            }
            clients[entry.id] = client
        }
        return Ledger(currencies: layout.currencies, clients: clients, store: store,
                      unknownClientRows: kept..<store.table.count, unknownClientEvents: unknownEvents,
                      duplicates: duplicates, rejections: rejections)
    }

    /// The order balances are counted in: instant, then id byte-wise.
    public static func balanceOrder(_ a: Transaction, _ b: Transaction) -> Bool {
        if a.instant != b.instant { return a.instant < b.instant }
        return a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
    }
}
