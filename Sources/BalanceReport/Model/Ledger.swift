/// A client with its history and its own transactions, in the order balances are counted.
public struct LedgerClient: Sendable {
    public var record: ClientRecord
    public var timeline: ClientTimeline
    /// Sorted by instant, ties by id byte-wise (SPEC §3).
    public var transactions: [Transaction]
    /// The events that made the timeline (duplicates and illegal transitions left out), in time order.
    public var events: [ClientEvent]
}

/// A record that repeats an earlier one with identical facts (overlapping exports).
public struct Duplicate: Sendable, Equatable {
    public var kind: RecordKind
    public var source: SourceLocation
    public var original: SourceLocation
    public var amount: Money?
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
    /// Transactions whose client no clients record names: nobody's report shows them.
    public var unknownClientTransactions: [Transaction]
    /// Events whose client no clients record names.
    public var unknownClientEvents: [ClientEvent]
    public var duplicates: [Duplicate]
    /// Ingest rejections plus the ones found here (conflicting duplicates, illegal transitions).
    public var rejections: [Rejection]

    /// Builds the ledger from what Ingest read. Pure: same export, same ledger.
    public static func build(from export: IngestedExport) throws(LedgerError) -> Ledger {
        var rest = export
        var transactions: [Transaction] = []
        swap(&transactions, &rest.transactions)
        return try build(from: rest, transactions: transactions)
    }

    /// Builds the ledger, taking ownership of `transactions` (those of `export` are ignored):
    /// a million transactions are moved into place, never copied.
    public static func build(from export: IngestedExport, transactions: consuming [Transaction]) throws(LedgerError) -> Ledger {
        var rejections = export.rejections
        var duplicates: [Duplicate] = []
        func location(_ source: SourceLocation) -> String { export.location(source) }

        // Transactions, first pass, reading only: identical repeats count once; the same id with
        // other facts rejects every record of that id.
        var all = consume transactions
        let (fates, conflicted) = transactionFates(all)
        let currency = try singleCurrency(all, fates)

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
            for index in all.indices where fates[index] == .keep && records[ByteKey(all[index].clientID)] == nil {
                let id = ByteKey(all[index].clientID)
                records[id] = derived[id] ?? ClientRecord(id: all[index].clientID, name: "", email: "", phone: "",
                                                          partnerID: "default", checkpoint: nil, source: all[index].source)
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
        var clients: [ByteKey: LedgerClient] = [:]
        clients.reserveCapacity(records.count)
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
            clients[id] = LedgerClient(record: record, timeline: timeline, transactions: [], events: accepted)
        }

        // Second pass: move every transaction where it belongs, popping from the end so that
        // nothing is copied; each client's list comes out reversed and is turned round after.
        // Buckets by client number: one hash lookup per transaction, and no copy-on-write checks
        // through the dictionary of clients.
        var bucketOf: [ByteKey: Int] = [:]
        bucketOf.reserveCapacity(clients.count)
        for id in clients.keys { bucketOf[id] = bucketOf.count }
        var buckets = [[Transaction]](repeating: [], count: bucketOf.count)
        // Each transaction's bucket, looked up once; counted first, so that every list is allocated
        // at its final size instead of doubling its way there (which set the run's peak memory).
        var bucketIndex = [Int32](repeating: -1, count: all.count)
        var counts = [Int](repeating: 0, count: bucketOf.count)
        for index in all.indices where fates[index] == .keep {
            guard let bucket = bucketOf[ByteKey(all[index].clientID)] else { continue }
            bucketIndex[index] = Int32(bucket)
            counts[bucket] += 1
        }
        for bucket in buckets.indices { buckets[bucket].reserveCapacity(counts[bucket]) }
        var unknownTransactions: [Transaction] = []
        while let transaction = all.popLast() {
            switch fates[all.count] {
            case .keep:
                let bucket = Int(bucketIndex[all.count])
                if bucket >= 0 {
                    buckets[bucket].append(transaction)
                } else {
                    unknownTransactions.append(transaction)
                }
            case .duplicate(let first):
                duplicates.append(Duplicate(kind: .transaction, source: transaction.source,
                                            original: all[first].source, amount: transaction.amount))
            case .conflict:
                let (first, sources) = conflicted[ByteKey(transaction.id)]!
                let others = Ledger.listed(sources.filter { $0 != transaction.source }, location)
                // A later record also says how it differs from the first; that one is still in `all`.
                let difference = first < all.count ? " (\(differences(all[first], transaction)))" : ""
                rejections.append(Rejection(
                    source: transaction.source, kind: .transaction,
                    reason: "transaction id \(transaction.id) conflicts with \(others)\(difference)",
                    recordID: transaction.id, amount: transaction.amount))
            }
        }
        // Reversed through the buffer: its swaps move elements, where the array's would copy them.
        unknownTransactions.withUnsafeMutableBufferPointer { $0.reverse() }
        // Balance order; exports mostly come in time order already, and then nothing is sorted.
        for (id, bucket) in bucketOf {
            var transactions: [Transaction] = []
            swap(&transactions, &buckets[bucket])
            transactions.withUnsafeMutableBufferPointer { $0.reverse() }
            if !Ledger.isInBalanceOrder(transactions) { transactions.sort(by: Ledger.balanceOrder) }
            clients[id]!.transactions = transactions
        }
        return Ledger(currency: currency, clients: clients,
                      unknownClientTransactions: unknownTransactions, unknownClientEvents: unknownEvents,
                      duplicates: duplicates, rejections: rejections)
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

    /// What becomes of a transaction record.
    enum Fate: Equatable {
        case keep
        /// An identical repeat of the record at this index.
        case duplicate(of: Int)
        /// One of several records of an id with different facts.
        case conflict
    }

    /// Decides each record's fate, and where the records of each conflicting id are.
    /// Duplicates of a conflicting id stay duplicates: rejecting them too would count an amount twice.
    static func transactionFates(_ all: [Transaction]) -> ([Fate], [ByteKey: (first: Int, sources: [SourceLocation])]) {
        var fates = [Fate](repeating: .keep, count: all.count)
        var firstByID = IDTable(capacity: all.count)
        var conflicted: [ByteKey: (first: Int, sources: [SourceLocation])] = [:]
        for index in all.indices {
            guard let first = firstByID.insertOrFind(index, in: all) else { continue }
            if all[first].sameFacts(as: all[index]) {
                fates[index] = .duplicate(of: first)
            } else {
                fates[index] = .conflict
                if conflicted[ByteKey(all[index].id)] == nil {
                    conflicted[ByteKey(all[index].id)] = (first, [all[first].source])
                    fates[first] = .conflict
                }
                conflicted[ByteKey(all[index].id)]!.sources.append(all[index].source)
            }
        }
        return (fates, conflicted)
    }

    /// The first record of each transaction id: open addressing over a seeded FNV-1a hash of
    /// the id's bytes, which costs a fraction of `Dictionary<String, Int>` on a million ids.
    /// The per-run seed keeps crafted ids from piling into one chain.
    struct IDTable {
        /// Each slot: the record index + 1 in the high 32 bits, 32 bits of the id's hash in the low
        /// ones, so a probe rarely has to look at the (cache-cold) record itself. 0 is empty.
        private var slots: [UInt64]
        private let mask: Int
        private let seed = UInt64.random(in: 0...UInt64.max)

        init(capacity: Int) {
            var size = 16
            while size < capacity * 2 { size <<= 1 }
            slots = [UInt64](repeating: 0, count: size)
            mask = size - 1
        }

        /// Records `index` as the first of its id, or returns the index that came first.
        mutating func insertOrFind(_ index: Int, in all: [Transaction]) -> Int? {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ seed
            for byte in all[index].id.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            hash ^= hash >> 29
            let fingerprint = hash & 0xFFFF_FFFF
            var slot = Int(truncatingIfNeeded: hash >> 32) & mask
            while true {
                let entry = slots[slot]
                if entry == 0 {
                    slots[slot] = (UInt64(index + 1) << 32) | fingerprint
                    return nil
                }
                if entry & 0xFFFF_FFFF == fingerprint {
                    let existing = Int(entry >> 32) - 1
                    if all[existing].id.bytesEqual(all[index].id) { return existing }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// SPEC §2.1: one run has one currency.
    static func singleCurrency(_ all: [Transaction], _ fates: [Fate]) throws(LedgerError) -> String {
        var currencies: [(currency: String, source: SourceLocation)] = []
        for index in all.indices where fates[index] == .keep && !currencies.contains(where: { $0.currency.bytesEqual(all[index].currency) }) {
            currencies.append((all[index].currency, all[index].source))
        }
        if currencies.count > 1 { throw .mixedCurrencies(currencies) }
        return currencies.first?.currency ?? "RUB"
    }

    static func isInBalanceOrder(_ transactions: [Transaction]) -> Bool {
        transactions.indices.dropFirst().allSatisfy { !balanceOrder(transactions[$0], transactions[$0 - 1]) }
    }

    /// The order balances are counted in: instant, then id byte-wise.
    public static func balanceOrder(_ a: Transaction, _ b: Transaction) -> Bool {
        if a.instant != b.instant { return a.instant < b.instant }
        return a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
    }

    static func differences(_ a: Transaction, _ b: Transaction) -> String {
        var fields: [String] = []
        if a.instant != b.instant { fields.append("timestamp") }
        // Bytes, as `sameFacts` compares them: ids in NFC and NFD differ.
        if !a.clientID.bytesEqual(b.clientID) { fields.append("client_id") }
        if a.kind != b.kind { fields.append("type") }
        if !a.service.bytesEqual(b.service) { fields.append("service") }
        if a.amount != b.amount { fields.append("amount \(a.amount) vs \(b.amount)") }
        if !a.currency.bytesEqual(b.currency) { fields.append("currency") }
        if !a.description.bytesEqual(b.description) { fields.append("description") }
        return "different " + fields.joined(separator: ", ")
    }
}
