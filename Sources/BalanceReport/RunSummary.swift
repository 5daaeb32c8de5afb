import BalanceModel
import BalanceSupport

/// The run summary: every input record accounted for, by file, kind and outcome, with control totals.
public struct RunSummary: Sendable {
    public struct FileSummary: Sendable {
        public var path: String
        public var format: InputFile.Format
        public var kinds: [RecordKind]
        /// Records the reader delivered (the header not counted).
        public var records: Int
        /// Rows with nothing in them (`,,,,`, a trailing Ctrl-Z): no record, but not passed over silently.
        public var blankRows: Int = 0
        public var outcomes: [Outcome: Tally]
        /// Problems with the file as a whole, as `line: reason`.
        public var problems: [String]
        /// Named by provenance columns only (an original file, see `Provenance`): never opened here.
        public var isProvenance = false

        public init(path: String, format: InputFile.Format, kinds: [RecordKind], records: Int, blankRows: Int = 0,
                    outcomes: [Outcome: Tally], problems: [String], isProvenance: Bool = false) {
            self.path = path
            self.format = format
            self.kinds = kinds
            self.records = records
            self.blankRows = blankRows
            self.outcomes = outcomes
            self.problems = problems
            self.isProvenance = isProvenance
        }
    }

    public init(files: [FileSummary], outcomes: [RecordKind: [Outcome: Tally]], acceptedTotals: PerCurrency<KindTotals>,
                reportedTotals: PerCurrency<KindTotals>,
                rejectedWithoutAmount: Int, rejections: [Rejection], duplicates: [Duplicate],
                reconciliationFailures: [String] = [], unknownClients: [UnknownClient] = []) {
        self.files = files
        self.outcomes = outcomes
        self.acceptedTotals = acceptedTotals
        self.reportedTotals = reportedTotals
        self.rejectedWithoutAmount = rejectedWithoutAmount
        self.rejections = rejections
        self.duplicates = duplicates
        self.reconciliationFailures = reconciliationFailures
        self.unknownClients = unknownClients
    }

    public var files: [FileSummary]
    /// Per record kind, per outcome.
    public var outcomes: [RecordKind: [Outcome: Tally]]
    /// Accepted transactions, by currency and kind.
    public var acceptedTotals: PerCurrency<KindTotals>
    /// What the partners' reports show, summed from their detail lines, by currency.
    public var reportedTotals: PerCurrency<KindTotals>
    /// Rejected transactions whose amount could not be read (they are not in the rejected amount).
    public var rejectedWithoutAmount: Int
    public var rejections: [Rejection]
    public var duplicates: [Duplicate]
    /// Where a partner's totals, spend or balances disagree with its own detail lines.
    public var reconciliationFailures: [String] = []
    /// The clients no clients record names, with the period's transactions each (`unknown-clients.csv`).
    public var unknownClients: [UnknownClient] = []
    /// Float-printed amounts (`float_amounts`) rounded to twelve fractional digits: how many, and
    /// the exact total difference. Every amount above is the rounded one.
    public var amountRounding = PerCurrency<AmountRounding>()

    public var hasRejections: Bool { !rejections.isEmpty }

    /// The identities that must hold before anything is published: every record counted
    /// exactly once, and the reports showing exactly what was accepted. Empty when all hold.
    public var controlFailures: [String] {
        var failures: [String] = []
        for currency in Set(acceptedTotals.currencies + reportedTotals.currencies).sorted(by: byteOrder) {
            let (reported, accepted) = (reportedTotals[currency] ?? KindTotals(), acceptedTotals[currency] ?? KindTotals())
            if accepted != reported {
                failures.append("the reports show top-ups \(reported.topups), charges \(reported.charges), refunds \(reported.refunds) \(currency) but accepted were \(accepted.topups), \(accepted.charges), \(accepted.refunds)")
            }
        }
        for file in files {
            let counted = file.outcomes.values.reduce(0) { $0 + $1.count }
            if counted != file.records {
                failures.append("\(file.path): \(file.records) records read but \(counted) accounted for")
            }
        }
        return failures + reconciliationFailures
    }

    /// Counted on up to `workers` threads (1: on the calling thread); the result is the same whatever the number.
    static func build(ledger: Ledger, export: IngestedExport, period: Interval, partners: [PartnerReport],
                      workers: Int = processorCount) -> RunSummary {
        var files = export.files.map {
            FileSummary(path: $0.path, format: $0.format, kinds: $0.kinds, records: $0.records, blankRows: $0.blankRows,
                        outcomes: [:], problems: [], isProvenance: $0.isProvenance)
        }
        // Counted in flat arrays (kind × outcome, file × outcome): these loops see every record,
        // the clients' transactions on every core.
        var counts = OutcomeCounts(files: files.count)
        // Amounts are counted per currency slot: the table's currency numbers, then the codes only
        // rejected or superseded records name.
        var codes = ledger.store.table.currencyNames.names
        var slots: [ByteKey: Int] = [:]
        for (slot, code) in codes.enumerated() { slots[ByteKey(code)] = slot }
        func slot(_ code: String) -> Int {
            if let slot = slots[ByteKey(code)] { return slot }
            codes.append(code)
            slots[ByteKey(code)] = codes.count - 1
            return codes.count - 1
        }
        var rejectedWithoutAmount = 0
        for rejection in ledger.rejections {
            guard rejection.isRecord else {
                files[Int(rejection.source.file)].problems.append("\(rejection.source.line): \(rejection.reason)")
                continue
            }
            counts.count(rejection.kind ?? .transaction, .rejected, rejection.source, rejection.amount, slot: slot(rejection.currency))
            if rejection.kind == .transaction || rejection.kind == nil, rejection.amount == nil { rejectedWithoutAmount += 1 }
        }
        for duplicate in ledger.duplicates {
            counts.count(duplicate.kind, .duplicate, duplicate.source, duplicate.amount, slot: slot(duplicate.currency))
        }
        let clients = Array(ledger.clients.values)
        let lanes = min(max(1, clients.count), max(1, workers))
        let fileCount = files.count
        let hasClientRecords = !export.clients.isEmpty
        let parts = concurrentMap(Array(0..<lanes), workers: workers) { lane in
            var part = OutcomeCounts(files: fileCount)
            for client in clients[(clients.count * lane / lanes)..<(clients.count * (lane + 1) / lanes)] {
                if hasClientRecords { part.count(.client, .accepted, client.record.source, nil) }
                for event in client.events { part.count(.event, .accepted, event.source, nil) }
                // By index, reading single fields: copying a million transactions costs more than counting them.
                let store = client.transactions.store
                for row in client.transactions.rows {
                    let instant = store.table.instant(row)
                    let outcome: Outcome
                    let slot = Int(store.table.currency(row))
                    if !period.contains(instant) {
                        outcome = .outsidePeriod
                    } else if client.timeline.isAttached(at: instant) {
                        outcome = .accepted
                        part.accept(store.table.kind(row), store.table.amount(row), slot: slot)
                    } else {
                        outcome = .outsideAttachment
                    }
                    part.count(.transaction, outcome, store.table.source(row), store.table.amount(row), slot: slot)
                }
            }
            return part
        }
        for part in parts { counts.merge(part) }
        let table = ledger.store.table
        for row in ledger.unknownClientRows {
            counts.count(.transaction, period.contains(table.instant(row)) ? .unknownClient : .outsidePeriod, table.source(row),
                         table.amount(row), slot: Int(table.currency(row)))
        }
        for event in ledger.unknownClientEvents {
            counts.count(.event, .unknownClient, event.source, nil)
        }
        for transaction in export.superseded {
            counts.count(.transaction, .superseded, transaction.source, transaction.amount, slot: slot(transaction.currency))
        }
        let outcomeCount = Outcome.allCases.count
        var accepted = PerCurrency<KindTotals>()
        for (slot, totals) in counts.accepted.enumerated() where totals != KindTotals() {
            accepted[codes[slot], default: KindTotals()] = totals
        }

        var outcomes: [RecordKind: [Outcome: Tally]] = [:]
        for kind in RecordKind.allCases {
            for outcome in Outcome.allCases {
                let tally = counts.tally(kind.ordinal * outcomeCount + outcome.ordinal, byFile: false, codes: codes)
                if tally.count > 0 { outcomes[kind, default: [:]][outcome] = tally }
            }
        }
        for file in files.indices {
            for outcome in Outcome.allCases {
                let tally = counts.tally(file * outcomeCount + outcome.ordinal, byFile: true, codes: codes)
                if tally.count > 0 { files[file].outcomes[outcome] = tally }
            }
        }

        // What each client's detail lines show, once, on every core; the reported totals and the
        // reconciliation below both read it.
        let shown = partners.map { partner in concurrentMap(partner.clients, workers: workers) { KindTotals($0.detail) } }
        var reported = PerCurrency<KindTotals>()
        for (p, partner) in partners.enumerated() {
            for (c, client) in partner.clients.enumerated() where client.hasAccount {
                reported[client.currency, default: KindTotals()] = reported[client.currency, default: KindTotals()] + shown[p][c]
            }
        }
        // Listed in file and line order, whatever order the model found them in.
        let rejections = ledger.rejections.sorted { $0.source != $1.source ? $0.source < $1.source : byteOrder($0.reason, $1.reason) }
        let duplicates = ledger.duplicates.sorted { $0.source < $1.source }
        var summary = RunSummary(files: files, outcomes: outcomes, acceptedTotals: accepted, reportedTotals: reported,
                          rejectedWithoutAmount: rejectedWithoutAmount, rejections: rejections, duplicates: duplicates,
                          reconciliationFailures: reconcile(partners, shown: shown, workers: workers),
                          unknownClients: UnknownClient.list(ledger, period: period))
        summary.amountRounding = export.amountRounding
        return summary
    }

    /// Every figure a partner reads must follow from the detail lines it is shown: client movements,
    /// spend per service and per day, running balances, and the partner's totals and spend; and
    /// every page, row and total must add up: `opening + topups − charges + refunds +
    /// unattached_change = closing`, with the unattached change the sum of the client's gap rows.
    /// `shown[p][c]`: the totals of partner `p`'s client `c`'s detail lines (computed when `nil`).
    static func reconcile(_ partners: [PartnerReport], shown: [[KindTotals]]? = nil, workers: Int = processorCount) -> [String] {
        var failures: [String] = []
        @Sendable func totals(_ t: KindTotals) -> String { "top-ups \(t.topups), charges \(t.charges), refunds \(t.refunds)" }
        for (p, partner) in partners.enumerated() {
            let clientShown = shown?[p] ?? concurrentMap(partner.clients, workers: workers) { KindTotals($0.detail) }
            // Each client's own checks are independent: on every core, failures kept in client order.
            let clientFailures = concurrentMap(Array(partner.clients.indices), workers: workers) { c -> [String] in
                let client = partner.clients[c]
                let shown = clientShown[c]
                let name = "partner \(partner.partnerID), client \(client.client.id)"
                var failures: [String] = []
                let movement = client.movement ?? BalanceMovement()
                if movement.topups != shown.topups || movement.charges != shown.charges || movement.refunds != shown.refunds {
                    failures.append("\(name): the movement shows \(totals(KindTotals(movement))) but the detail lines \(totals(shown))")
                }
                if client.services.sum(\.charged) != shown.charges || client.services.sum(\.refunded) != shown.refunds {
                    failures.append("\(name): spend per service does not add up to the detail lines")
                }
                if client.daily.sum(\.net) != shown.charges - shown.refunds {
                    failures.append("\(name): spend per day does not add up to the detail lines")
                }
                if let problem = balanceChainProblem(client) { failures.append("\(name): \(problem)") }
                if let movement = client.movement {
                    if !movement.addsUp { failures.append("\(name): \(identity(movement))") }
                    if client.gaps.sum(\.change) != movement.unattachedChange {
                        failures.append("\(name): the unattached change \(movement.unattachedChange) is not the sum of its gap rows \(client.gaps.sum(\.change))")
                    }
                } else if !client.gaps.isEmpty {
                    failures.append("\(name): gap rows shown without a visible interval")
                }
                return failures
            }
            failures += clientFailures.joined()
            for book in partner.currencies {
                var partnerShown = KindTotals()
                var movements = BalanceMovement()
                let name = "partner \(partner.partnerID) (\(book.currency))"
                for (c, client) in partner.clients.enumerated() where client.currency.bytesEqual(book.currency) {
                    partnerShown = partnerShown + clientShown[c]
                    if let movement = client.movement { movements = movements + movement }
                }
                if KindTotals(book.totals) != partnerShown || book.totals.opening != movements.opening
                    || book.totals.closing != movements.closing {
                    failures.append("\(name): the totals show \(totals(KindTotals(book.totals))) but the clients' detail lines \(totals(partnerShown))")
                }
                if book.totals.unattachedChange != movements.unattachedChange {
                    failures.append("\(name): the totals' unattached change \(book.totals.unattachedChange) is not the clients' \(movements.unattachedChange)")
                }
                if !book.totals.addsUp { failures.append("\(name) totals: \(identity(book.totals))") }
                if book.services.sum(\.charged) != partnerShown.charges || book.services.sum(\.refunded) != partnerShown.refunds {
                    failures.append("\(name): spend per service does not add up to the detail lines")
                }
            }
        }
        return failures
    }

    /// The identity a movement breaks, spelled out.
    static func identity(_ m: BalanceMovement) -> String {
        "opening \(m.opening) + top-ups \(m.topups) − charges \(m.charges) + refunds \(m.refunds) + unattached change \(m.unattachedChange) = \(m.opening + m.topups - m.charges + m.refunds + m.unattachedChange), not the closing \(m.closing)"
    }

    /// Running balances must follow row by row from the opening balance to the closing one: each
    /// transaction moves the balance by its amount, and each gap row (between two visible
    /// intervals) picks up from the balance before it and hands on the balance after it. Every
    /// transaction lies in a visible interval, on its side of every gap.
    static func balanceChainProblem(_ client: ClientReport) -> String? {
        guard let movement = client.movement, !client.visibleIntervals.isEmpty else {
            return client.detail.isEmpty ? nil : "detail lines shown without a visible interval"
        }
        let intervals = client.visibleIntervals
        let gaps = client.gaps
        var balance = movement.opening
        var nextGap = 0
        func crossGaps(upTo position: Int) -> String? {
            while nextGap < gaps.count && gaps[nextGap].position <= position {
                let gap = gaps[nextGap]
                if gap.position != position { return "a gap row is out of place" }
                if gap.before != balance { return "the gap from \(MoscowTime.isoText(gap.from)) starts at \(gap.before), the rows before it end at \(balance)" }
                balance = gap.after
                nextGap += 1
            }
            return nil
        }
        let detail = client.detail
        for index in detail.indices {
            if let problem = crossGaps(upTo: index) { return problem }
            let instant = detail.instant(index)
            guard intervals.contains(where: { $0.contains(instant) }) else {
                return "transaction \(detail.id(index)) lies outside the visible intervals"
            }
            if nextGap > 0 && instant < gaps[nextGap - 1].to || nextGap < gaps.count && instant >= gaps[nextGap].from {
                return "transaction \(detail.id(index)) is on the wrong side of a gap row"
            }
            let after = detail.balanceAfter(index)
            let expected = balance + detail.net(index)
            if expected != after {
                return "the balance after \(detail.id(index)) is \(after), expected \(expected)"
            }
            balance = after
        }
        if let problem = crossGaps(upTo: detail.count) { return problem }
        if nextGap != gaps.count { return "a gap row is out of place" }
        if balance != movement.closing {
            return "the closing balance is \(movement.closing) but the rows end at \(balance)"
        }
        return nil
    }
}

extension KindTotals {
    package static func + (a: KindTotals, b: KindTotals) -> KindTotals {
        var sum = a
        sum.topups += b.topups
        sum.charges += b.charges
        sum.refunds += b.refunds
        return sum
    }

    package init(_ movement: BalanceMovement) {
        self.init()
        topups = movement.topups
        charges = movement.charges
        refunds = movement.refunds
    }
}

extension RunSummary {
    /// The path of the file a location is in (empty when the location names no file of the run).
    public func path(of location: SourceLocation) -> String {
        let file = Int(location.file)
        return file >= 0 && file < files.count ? files[file].path : ""
    }
}
