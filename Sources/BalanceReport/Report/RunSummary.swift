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
}

/// A count of records and the sum of their amounts (as written, unsigned).
public struct Tally: Sendable, Equatable {
    public var count = 0
    public var amount = Money.zero

    public init() {}

    mutating func add(_ amount: Money?) {
        count += 1
        if let amount { self.amount += amount }
    }
}

/// Top-ups, charges and refunds summed separately.
public struct KindTotals: Sendable, Equatable {
    public var topups = Money.zero
    public var charges = Money.zero
    public var refunds = Money.zero

    public init() {}

    mutating func add(_ transaction: Transaction) {
        switch transaction.kind {
        case .topup: topups += transaction.amount
        case .charge: charges += transaction.amount
        case .refund: refunds += transaction.amount
        }
    }
}

/// The run summary: every input record accounted for, by file, kind and outcome, with control totals.
public struct RunSummary: Sendable {
    public struct FileSummary: Sendable {
        public var path: String
        public var format: InputFile.Format
        public var kinds: [RecordKind]
        /// Records the reader delivered (the header not counted).
        public var records: Int
        public var outcomes: [Outcome: Tally]
        /// Problems with the file as a whole, as `line: reason`.
        public var problems: [String]
    }

    public var files: [FileSummary]
    /// Per record kind, per outcome.
    public var outcomes: [RecordKind: [Outcome: Tally]]
    /// Accepted transactions, by kind.
    public var acceptedTotals: KindTotals
    /// What the partners' reports show, summed from their detail lines.
    public var reportedTotals: KindTotals
    /// Rejected transactions whose amount could not be read (they are not in the rejected amount).
    public var rejectedWithoutAmount: Int
    public var rejections: [Rejection]
    public var duplicates: [Duplicate]

    public var hasRejections: Bool { !rejections.isEmpty }

    /// The identities that must hold before anything is published: every record counted
    /// exactly once, and the reports showing exactly what was accepted. Empty when all hold.
    public var controlFailures: [String] {
        var failures: [String] = []
        if acceptedTotals != reportedTotals {
            failures.append("the reports show top-ups \(reportedTotals.topups), charges \(reportedTotals.charges), refunds \(reportedTotals.refunds) but accepted were \(acceptedTotals.topups), \(acceptedTotals.charges), \(acceptedTotals.refunds)")
        }
        for file in files {
            let counted = file.outcomes.values.reduce(0) { $0 + $1.count }
            if counted != file.records {
                failures.append("\(file.path): \(file.records) records read but \(counted) accounted for")
            }
        }
        return failures
    }

    static func build(ledger: Ledger, export: IngestedExport, period: Interval, partners: [PartnerReport]) -> RunSummary {
        var files = export.files.map {
            FileSummary(path: $0.path, format: $0.format, kinds: $0.kinds, records: $0.records, outcomes: [:], problems: [])
        }
        var outcomes: [RecordKind: [Outcome: Tally]] = [:]
        var accepted = KindTotals()
        func count(_ kind: RecordKind, _ outcome: Outcome, _ source: SourceLocation, _ amount: Money?) {
            outcomes[kind, default: [:]][outcome, default: Tally()].add(amount)
            files[Int(source.file)].outcomes[outcome, default: Tally()].add(amount)
        }

        var rejectedWithoutAmount = 0
        for rejection in ledger.rejections {
            guard rejection.isRecord else {
                files[Int(rejection.source.file)].problems.append("\(rejection.source.line): \(rejection.reason)")
                continue
            }
            count(rejection.kind ?? .transaction, .rejected, rejection.source, rejection.amount)
            if rejection.kind == .transaction || rejection.kind == nil, rejection.amount == nil { rejectedWithoutAmount += 1 }
        }
        for duplicate in ledger.duplicates {
            count(duplicate.kind, .duplicate, duplicate.source, duplicate.amount)
        }
        for client in ledger.clients.values {
            if !export.clients.isEmpty { count(.client, .accepted, client.record.source, nil) }
            for event in client.events { count(.event, .accepted, event.source, nil) }
            for transaction in client.transactions {
                let outcome: Outcome
                if !period.contains(transaction.instant) {
                    outcome = .outsidePeriod
                } else if client.timeline.isAttached(at: transaction.instant) {
                    outcome = .accepted
                    accepted.add(transaction)
                } else {
                    outcome = .outsideAttachment
                }
                count(.transaction, outcome, transaction.source, transaction.amount)
            }
        }
        for transaction in ledger.unknownClientTransactions {
            count(.transaction, period.contains(transaction.instant) ? .unknownClient : .outsidePeriod, transaction.source, transaction.amount)
        }
        for event in ledger.unknownClientEvents {
            count(.event, .unknownClient, event.source, nil)
        }

        var reported = KindTotals()
        for partner in partners {
            for client in partner.clients {
                for line in client.detail { reported.add(line.transaction) }
            }
        }
        // Listed in file and line order, whatever order the model found them in.
        let rejections = ledger.rejections.sorted { $0.source != $1.source ? $0.source < $1.source : byteOrder($0.reason, $1.reason) }
        let duplicates = ledger.duplicates.sorted { $0.source < $1.source }
        return RunSummary(files: files, outcomes: outcomes, acceptedTotals: accepted, reportedTotals: reported,
                          rejectedWithoutAmount: rejectedWithoutAmount, rejections: rejections, duplicates: duplicates)
    }
}
