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
    public var clients: [String: LedgerClient]
    /// Transactions whose client no clients record names: nobody's report shows them.
    public var unknownClientTransactions: [Transaction]
    /// Events whose client no clients record names.
    public var unknownClientEvents: [ClientEvent]
    public var duplicates: [Duplicate]
    /// Ingest rejections plus the ones found here (conflicting duplicates, illegal transitions).
    public var rejections: [Rejection]

    /// Builds the ledger from what Ingest read. Pure: same export, same ledger.
    public static func build(from export: IngestedExport) throws(LedgerError) -> Ledger {
        var rejections = export.rejections
        var duplicates: [Duplicate] = []
        func location(_ source: SourceLocation) -> String { export.location(source) }

        // Transactions: identical repeats count once; the same id with other facts rejects both.
        var firstByID: [String: Int] = [:]
        firstByID.reserveCapacity(export.transactions.count)
        // Where each conflicting id's other records are: the first record's rejection names them.
        var conflicted: [String: [SourceLocation]] = [:]
        var unique: [Transaction] = []
        unique.reserveCapacity(export.transactions.count)
        for transaction in export.transactions {
            if let index = firstByID[transaction.id] {
                let original = unique[index]
                if original.sameFacts(as: transaction) {
                    duplicates.append(Duplicate(kind: .transaction, source: transaction.source, original: original.source, amount: transaction.amount))
                } else {
                    conflicted[transaction.id, default: []].append(transaction.source)
                    rejections.append(Rejection(
                        source: transaction.source, kind: .transaction,
                        reason: "transaction id \(transaction.id) conflicts with \(location(original.source)) (\(differences(original, transaction)))",
                        recordID: transaction.id, amount: transaction.amount))
                }
            } else {
                firstByID[transaction.id] = unique.count
                unique.append(transaction)
            }
        }
        if !conflicted.isEmpty {
            unique.removeAll { transaction in
                guard let others = conflicted[transaction.id] else { return false }
                rejections.append(Rejection(source: transaction.source, kind: .transaction,
                                            reason: "transaction id \(transaction.id) conflicts with \(others.map(location).joined(separator: ", "))",
                                            recordID: transaction.id, amount: transaction.amount))
                return true
            }
        }

        // One currency per run.
        var currencies: [(currency: String, source: SourceLocation)] = []
        for transaction in unique where !currencies.contains(where: { $0.currency == transaction.currency }) {
            currencies.append((transaction.currency, transaction.source))
        }
        if currencies.count > 1 { throw .mixedCurrencies(currencies) }

        // Clients: identical repeats count once; conflicting records reject both.
        var records: [String: ClientRecord] = [:]
        var conflictedClients: [String: [SourceLocation]] = [:]
        for client in export.clients {
            if let original = records[client.id] {
                if original.sameFacts(as: client) {
                    duplicates.append(Duplicate(kind: .client, source: client.source, original: original.source, amount: nil))
                } else {
                    conflictedClients[client.id, default: []].append(client.source)
                    rejections.append(Rejection(source: client.source, kind: .client,
                                                reason: "client \(client.id) conflicts with \(location(original.source))",
                                                recordID: client.id))
                }
            } else {
                records[client.id] = client
            }
        }
        for id in conflictedClients.keys.sorted() {
            let original = records.removeValue(forKey: id)!
            rejections.append(Rejection(source: original.source, kind: .client,
                                        reason: "client \(id) conflicts with \(conflictedClients[id]!.map(location).joined(separator: ", "))",
                                        recordID: id))
        }

        // Without any clients record, every client found in the transactions is the default partner's.
        // A clients record Ingest rejected still counts: its clients must not fall to `default`.
        let noClientRecords = export.clients.isEmpty && !export.rejections.contains { $0.isRecord && $0.kind == .client }
        if noClientRecords {
            for transaction in unique where records[transaction.clientID] == nil {
                records[transaction.clientID] = ClientRecord(id: transaction.clientID, name: "", email: "", phone: "",
                                                             partnerID: "default", checkpoint: nil, source: transaction.source)
            }
        }

        // Events: identical repeats count once; then each client's history through the state machine.
        var eventsByClient: [String: [ClientEvent]] = [:]
        var unknownEvents: [ClientEvent] = []
        var seenEvents: [String: [ClientEvent]] = [:]
        for event in export.events {
            if let original = seenEvents[event.clientID]?.first(where: { $0.sameFacts(as: event) }) {
                duplicates.append(Duplicate(kind: .event, source: event.source, original: original.source, amount: nil))
                continue
            }
            seenEvents[event.clientID, default: []].append(event)
            if records[event.clientID] == nil || noClientRecords {
                unknownEvents.append(event)
            } else {
                eventsByClient[event.clientID, default: []].append(event)
            }
        }
        // An event record Ingest rejected still makes a run with events: nobody is attached by default then.
        let runHasEvents = (!export.events.isEmpty || export.rejections.contains { $0.isRecord && $0.kind == .event })
            && !noClientRecords
        var clients: [String: LedgerClient] = [:]
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
                                                reason: "\(problem) (client \(id))", recordID: id))
                }
            }
            clients[id] = LedgerClient(record: record, timeline: timeline, transactions: [], events: accepted)
        }

        // Each client's transactions in balance order. Exports are mostly in time order already,
        // so the sort is skipped where it would change nothing.
        var unknownTransactions: [Transaction] = []
        var counts: [String: Int] = [:]
        for transaction in unique { counts[transaction.clientID, default: 0] += 1 }
        for (id, count) in counts where clients[id] != nil {
            clients[id]!.transactions.reserveCapacity(count)
        }
        for transaction in unique {
            if clients[transaction.clientID]?.transactions.append(transaction) == nil {
                unknownTransactions.append(transaction)
            }
        }
        var position = clients.values.startIndex
        while position != clients.values.endIndex {
            if !Ledger.isInBalanceOrder(clients.values[position].transactions) {
                clients.values[position].transactions.sort(by: Ledger.balanceOrder)
            }
            clients.values.formIndex(after: &position)
        }
        return Ledger(currency: currencies.first?.currency ?? "RUB", clients: clients,
                      unknownClientTransactions: unknownTransactions, unknownClientEvents: unknownEvents,
                      duplicates: duplicates, rejections: rejections)
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
        if a.clientID != b.clientID { fields.append("client_id") }
        if a.kind != b.kind { fields.append("type") }
        if a.service != b.service { fields.append("service") }
        if a.amount != b.amount { fields.append("amount \(a.amount) vs \(b.amount)") }
        if a.currency != b.currency { fields.append("currency") }
        if a.description != b.description { fields.append("description") }
        return "different " + fields.joined(separator: ", ")
    }
}
