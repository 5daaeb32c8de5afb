import BalanceReport
import BalanceSend
import BalanceOutput
import BalanceRender
import BalanceIngest
import BalanceModel
import BalanceSupport
/// Run summaries in parts, and their merge (the Spark route, `scale/spark/`, issue 14).
///
/// A run split by partner has two kinds of part: one per original export file, written where that
/// file is read and cut into per-partner rows (`balance-report split-export`): its format, kinds,
/// records, blank rows and the records rejected while reading it; and one per partner's render
/// (`render --summary-part`): the outcomes of its records, counted on the original files their
/// provenance columns name, its partners' totals, its control totals, duplicates and rejections.
/// `SummaryMerge.merge` adds them up into the `RunSummary` one run over every file would have
/// built, so `summary.json` and `rejects.csv` come out byte for byte the same; it checks the
/// control totals of the merged whole exactly, as a run does before it publishes.
public struct SummaryPart: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        public var path: String
        public var format: String
        public var kinds: [String]
        public var records: Int
        public var blankRows: Int
        /// Named by provenance columns (an original file), not read by this part.
        public var provenance: Bool
        /// Outcome raw value → count and exact amount.
        public var outcomes: [String: PartTally]
        /// An input part: the exact sum of the amounts of every record read from the file (those
        /// rejected while reading included), per currency, which the outcomes of every part must add up to.
        public var readAmounts: [String: String]? = nil
    }

    /// A count and its exact amounts, per currency (never one sum of two).
    public struct PartTally: Codable, Sendable, Equatable {
        public var count: Int
        public var amounts: [String: String]
    }

    public struct PartRejection: Codable, Sendable, Equatable {
        public var file: Int
        public var line: Int
        public var kind: String?
        public var reason: String
        public var id: String
        public var amount: String?
        public var currency: String
        public var isRecord: Bool
    }

    public struct PartDuplicate: Codable, Sendable, Equatable {
        public var kind: String
        public var file: Int
        public var line: Int
        public var originalFile: Int
        public var originalLine: Int
    }

    /// An unknown client of a render part (`UnknownClient`), its first record on the part's files.
    public struct PartUnknownClient: Codable, Sendable, Equatable {
        public var clientID: String
        public var currency: String
        public var transactions: Int
        public var amount: String
        public var file: Int
        public var line: Int
    }

    public struct PartPartner: Codable, Sendable, Equatable {
        public var partnerID: String
        public var clients: Int
        /// Per currency: opening_balance, topups, charges, refunds, unattached_change, closing_balance.
        public var totals: [String: [String]]
    }

    /// `input` (one original file, before any render) or `render` (one partner set's run).
    public var role: String
    public var periodFrom: String?
    public var periodTo: String?
    /// An input part: the currencies its file's records name (`RunReport.currencies` of a run of
    /// it alone); a render part: those its render reported in, which must be the run's (`render
    /// --run-currencies`: a set of one currency in a run of several writes the run's columns).
    public var currencies: [String]
    public var files: [File]
    /// Kind raw value → outcome raw value → tally.
    public var kindOutcomes: [String: [String: PartTally]]
    /// Per currency: top-ups, charges, refunds.
    public var accepted: [String: [String]]
    public var reported: [String: [String]]
    public var rejectedWithoutAmount: Int
    public var rejections: [PartRejection]
    public var duplicates: [PartDuplicate]
    public var partners: [PartPartner]
    public var reconciliationFailures: [String]
    /// A render part: the output folder its reports were written to.
    public var output: String?
    /// A render part's unknown clients (absent from parts written before they were named).
    public var unknownClients: [PartUnknownClient]? = nil
    /// A render part's float-printed amounts rounded (`AmountRounding.parts`) per currency; absent when none.
    public var amountRounding: [String: [String]]? = nil
    public var invoices: [PartInvoices]? = nil   // a render part's invoices (`InvoiceParts.swift`); absent without
}

extension SummaryPart {
    /// The part of a whole run: a partner set's render (`role` `render`). Every amount per currency.
    public static func of(_ report: RunReport, output: String?) -> SummaryPart {
        let summary = report.summary
        return SummaryPart(
            role: "render", periodFrom: report.period.firstDay.isoText, periodTo: report.period.lastDay.isoText,
            currencies: report.currencies,
            files: summary.files.map(File.init),
            kindOutcomes: Dictionary(uniqueKeysWithValues: summary.outcomes.map { ($0.key.rawValue, tallies($0.value)) }),
            accepted: texts(summary.acceptedTotals), reported: texts(summary.reportedTotals),
            rejectedWithoutAmount: summary.rejectedWithoutAmount,
            rejections: summary.rejections.map(PartRejection.init),
            duplicates: summary.duplicates.map(PartDuplicate.init),
            partners: report.partners.map { partner in
                PartPartner(partnerID: partner.partnerID, clients: partner.clientCount,
                            totals: Dictionary(uniqueKeysWithValues: partner.currencies.map { book in
                                let t = book.totals
                                return (book.currency, [t.opening, t.topups, t.charges, t.refunds, t.unattachedChange, t.closing].map(\.description))
                            }))
            },
            reconciliationFailures: summary.reconciliationFailures, output: output,
            unknownClients: summary.unknownClients.map {
                PartUnknownClient(clientID: $0.clientID, currency: $0.currency, transactions: $0.transactions,
                                  amount: $0.amount.description, file: Int($0.first.file), line: Int($0.first.line))
            },
            amountRounding: summary.amountRounding.isEmpty ? nil
                : Dictionary(uniqueKeysWithValues: summary.amountRounding.entries.map { ($0.currency, $0.value.parts) }),
            invoices: PartInvoices.of(report.invoices))
    }

    /// The part of one original file as read, before it is cut by partner (`role` `input`): its
    /// records, blank rows and what was rejected while reading it. `export` holds that file alone.
    public static func ofInput(_ export: IngestedExport) -> SummaryPart {
        var tallies: [RecordKind: Tally] = [:]
        var fileTally = Tally()
        var withoutAmount = 0
        for rejection in export.rejections where rejection.isRecord {
            tallies[rejection.kind ?? .transaction, default: Tally()].add(rejection.amount, rejection.currency)
            fileTally.add(rejection.amount, rejection.currency)
            if rejection.kind == .transaction || rejection.kind == nil, rejection.amount == nil { withoutAmount += 1 }
        }
        let files = export.files.map { file -> File in
            var part = File(InputFile: file)
            if fileTally.count > 0 { part.outcomes[Outcome.rejected.rawValue] = PartTally(fileTally) }
            part.readAmounts = SummaryMerge.texts(SummaryMerge.readAmounts(export))
            return part
        }
        return SummaryPart(
            role: "input", periodFrom: nil, periodTo: nil, currencies: SummaryMerge.currencies(export),
            files: files,
            kindOutcomes: Dictionary(uniqueKeysWithValues: tallies.map { ($0.key.rawValue, [Outcome.rejected.rawValue: PartTally($0.value)]) }),
            accepted: [:], reported: [:], rejectedWithoutAmount: withoutAmount,
            rejections: export.rejections.map(PartRejection.init), duplicates: [], partners: [],
            reconciliationFailures: [], output: nil)
    }

    static func tallies(_ outcomes: [Outcome: Tally]) -> [String: PartTally] {
        Dictionary(uniqueKeysWithValues: outcomes.map { ($0.key.rawValue, PartTally($0.value)) })
    }

    static func texts(_ totals: PerCurrency<KindTotals>) -> [String: [String]] {
        Dictionary(uniqueKeysWithValues: totals.entries.map { entry in
            (entry.currency, [entry.value.topups, entry.value.charges, entry.value.refunds].map(\.description))
        })
    }
}

/// The merged run: what `summary.json` and `rejects.csv` are written from.
public struct MergedRun: Sendable {
    public var period: ReportPeriod
    /// The run's currencies: every part's, which every render part must have reported in.
    public var currencies: [String]
    public var summary: RunSummary
    public var partners: [PartnerLine]
    /// Each render part's output folder, in the order the parts were given.
    public var outputs: [String]
    /// The render parts, checked against their outputs before anything of them is published.
    public var renderParts: [SummaryPart] = []
}

public enum SummaryMerge {
    /// Merges `inputs` (one `input` part per original file, in the order the run names the files)
    /// and `renders` (one per partner set, any order) into the run's summary. Throws when the parts
    /// do not belong to one run (periods, currencies, files no input part names, a partner twice).
    /// The merged summary's `controlFailures` are left for the caller to check, as a run does.
    public static func merge(inputs: [SummaryPart], renders: [SummaryPart]) throws(Diagnostic) -> MergedRun {
        guard !inputs.isEmpty else { throw Diagnostic("no input part: name the parts of every export file of the run") }
        if let wrong = inputs.first(where: { $0.role != "input" }) ?? renders.first(where: { $0.role != "render" }) {
            throw Diagnostic("a part of role '\(wrong.role)' given where an \(wrong.role == "input" ? "render" : "input") part belongs")
        }
        // The run's files: each input part holds exactly one (the file it read).
        var files: [RunSummary.FileSummary] = []
        var index: [ByteKey: Int] = [:]
        for part in inputs {
            guard part.files.count == 1, let file = part.files.first else { throw Diagnostic("an input part holds \(part.files.count) files, not one") }
            let key = ByteKey(file.path)
            if index[key] != nil { throw Diagnostic("the file \(file.path) is named twice: each export file is one part") }
            index[key] = files.count
            files.append(RunSummary.FileSummary(
                path: file.path, format: InputFile.Format(rawValue: file.format) ?? .csv,
                kinds: try file.kinds.map { (k: String) throws(Diagnostic) -> RecordKind in try kind(k) },
                records: file.records, blankRows: file.blankRows, outcomes: [:], problems: []))
        }
        // Periods: one for every render part.
        var period: ReportPeriod? = nil
        for part in renders {
            guard let from = part.periodFrom.flatMap(CivilDate.parse), let to = part.periodTo.flatMap(CivilDate.parse),
                  let p = try? ReportPeriod(firstDay: from, lastDay: to) else { throw Diagnostic("a render part has no period") }
            if let period, period != p {
                throw Diagnostic("the parts are of two periods: \(period.firstDay.isoText) – \(period.lastDay.isoText) and \(from.isoText) – \(to.isoText)")
            }
            period = p
        }
        guard let period else { throw Diagnostic("no render part: nothing to merge") }
        for part in inputs + renders { try checkConsistency(part) }
        // The run's currencies: every part's. A render part must have been rendered in all of them
        // (`render --run-currencies`), so that its files have the columns a run of them has.
        var codes = Set<ByteKey>()
        for part in inputs + renders { for code in part.currencies { codes.insert(ByteKey(code)) } }
        let runCurrencies = codes.sorted().map(\.text)
        for part in renders where part.currencies != runCurrencies {
            throw Diagnostic("the render part of \(part.output ?? "?") is in \(part.currencies.isEmpty ? "no currency" : part.currencies.joined(separator: ", ")) but the run holds \(runCurrencies.joined(separator: ", ")): render every set with --run-currencies \(runCurrencies.joined(separator: ","))")
        }

        var outcomes: [RecordKind: [Outcome: Tally]] = [:]
        var fileOutcomes = [[Outcome: Tally]](repeating: [:], count: files.count)
        var accepted = PerCurrency<KindTotals>()
        var reported = PerCurrency<KindTotals>()
        var rejectedWithoutAmount = 0
        var rejections: [Rejection] = []
        var duplicates: [Duplicate] = []
        var partners: [PartnerLine] = []
        var reconciliation: [String] = []
        var outputs: [String] = []
        var unknownClients: [UnknownClient] = []
        // Counted where the amounts became records: by the renders (an input part passes its rows on).
        var rounding = PerCurrency<AmountRounding>()

        for (number, part) in (inputs + renders).enumerated() {
            let isInput = number < inputs.count
            // Each file of the part, as a file of the run (or nil: a cut-out file, whose records
            // all name their original file).
            var map: [Int?] = []
            for file in part.files {
                if isInput || file.provenance {
                    guard let target = index[ByteKey(file.path)] else {
                        throw Diagnostic("a part counts records of \(file.path), which no input part names")
                    }
                    map.append(target)
                } else {
                    guard file.records == 0, file.outcomes.isEmpty else {
                        throw Diagnostic("a render part counts \(file.records) records on \(file.path) itself, not on the file they came from (rows without provenance columns)")
                    }
                    map.append(nil)
                }
                for (name, tally) in file.outcomes {
                    guard let target = map.last!, let outcome = Outcome(rawValue: name) else {
                        throw Diagnostic("a part counts outcome '\(name)' on \(file.path)")
                    }
                    fileOutcomes[target][outcome, default: Tally()].merge(try Tally(tally))
                }
            }
            func location(_ file: Int, _ line: Int) throws(Diagnostic) -> SourceLocation {
                guard file >= 0, file < map.count, let target = map[file] else {
                    throw Diagnostic("a part names a record of a file it does not list")
                }
                return SourceLocation(file: target, line: line)
            }
            for (name, byOutcome) in part.kindOutcomes {
                let k = try kind(name)
                for (outcomeName, tally) in byOutcome {
                    guard let outcome = Outcome(rawValue: outcomeName) else { throw Diagnostic("unknown outcome '\(outcomeName)'") }
                    outcomes[k, default: [:]][outcome, default: Tally()].merge(try Tally(tally))
                }
            }
            accepted = try add(accepted, part.accepted)
            reported = try add(reported, part.reported)
            rejectedWithoutAmount += part.rejectedWithoutAmount
            for r in part.rejections {
                rejections.append(Rejection(source: try location(r.file, r.line), kind: try r.kind.map { (k: String) throws(Diagnostic) -> RecordKind in try kind(k) },
                                            reason: r.reason, recordID: r.id, amount: try r.amount.map { (a: String) throws(Diagnostic) -> Money in try money(a) },
                                            currency: r.currency, isRecord: r.isRecord))
            }
            for d in part.duplicates {
                duplicates.append(Duplicate(kind: try kind(d.kind), source: try location(d.file, d.line),
                                            original: try location(d.originalFile, d.originalLine), amount: nil))
            }
            for p in part.partners {
                partners.append(PartnerLine(partnerID: p.partnerID, clients: p.clients, totals: try movements(p)))
            }
            for u in part.unknownClients ?? [] {
                let first = try location(u.file, u.line)
                let amount = try money(u.amount)
                if let at = unknownClients.firstIndex(where: { $0.clientID.bytesEqual(u.clientID) && $0.currency.bytesEqual(u.currency) }) {
                    unknownClients[at].transactions += u.transactions
                    unknownClients[at].amount += amount
                    if first < unknownClients[at].first { unknownClients[at].first = first }
                } else {
                    unknownClients.append(UnknownClient(clientID: u.clientID, currency: u.currency, transactions: u.transactions,
                                                        amount: amount, first: first))
                }
            }
            for (currency, parts) in part.amountRounding ?? [:] where !isInput {
                guard let counted = AmountRounding(parts: parts) else { throw Diagnostic("a part's amountRounding is not five figures") }
                rounding[currency, default: AmountRounding()].merge(counted)
            }
            if let output = part.output, !isInput { outputs.append(output) }
            reconciliation += part.reconciliationFailures
        }
        // A partner is in one part only: its clients' records were all sent to one set.
        partners.sort { byteOrder($0.partnerID, $1.partnerID) }
        for (a, b) in zip(partners, partners.dropFirst()) where a.partnerID.bytesEqual(b.partnerID) {
            throw Diagnostic("partner \(a.partnerID) is in two parts: every record of a partner's clients belongs in one set")
        }
        // Whole-file problems sit with their file, as a run lists them.
        for rejection in rejections where !rejection.isRecord {
            files[Int(rejection.source.file)].problems.append("\(rejection.source.line): \(rejection.reason)")
        }
        for file in files.indices { files[file].outcomes = fileOutcomes[file] }
        reconciliation += try checkReadAmounts(inputs: inputs, files: files)
        // The order a run lists them in (`RunSummary.build`): by file and line.
        rejections.sort { $0.source != $1.source ? $0.source < $1.source : byteOrder($0.reason, $1.reason) }
        duplicates.sort { $0.source != $1.source ? $0.source < $1.source : $0.original < $1.original }
        for kind in RecordKind.allCases {
            if let byOutcome = outcomes[kind] {
                outcomes[kind] = byOutcome.filter { $0.value.count > 0 }
                if outcomes[kind]!.isEmpty { outcomes[kind] = nil }
            }
        }
        var summary = RunSummary(files: files, outcomes: outcomes, acceptedTotals: accepted, reportedTotals: reported,
                                 rejectedWithoutAmount: rejectedWithoutAmount, rejections: rejections, duplicates: duplicates,
                                 reconciliationFailures: reconciliation,
                                 unknownClients: unknownClients.sorted {
                                     $0.clientID.bytesEqual($1.clientID) ? byteOrder($0.currency, $1.currency) : byteOrder($0.clientID, $1.clientID)
                                 })
        summary.amountRounding = rounding
        return MergedRun(period: period, currencies: runCurrencies, summary: summary, partners: partners, outputs: outputs,
                         renderParts: renders)
    }

    static func kind(_ name: String) throws(Diagnostic) -> RecordKind {
        guard let kind = RecordKind(rawValue: name) else { throw Diagnostic("unknown record kind '\(name)'") }
        return kind
    }

    static func money(_ text: String) throws(Diagnostic) -> Money {
        do { return try AmountParser.parse(text, mark: .point, allowNegative: true) } catch {
            throw Diagnostic("'\(text)' is not an exact amount")
        }
    }

    /// `totals` plus a part's control totals, currency by currency.
    static func add(_ totals: PerCurrency<KindTotals>, _ texts: [String: [String]]) throws(Diagnostic) -> PerCurrency<KindTotals> {
        var sum = totals
        for (currency, amounts) in texts {
            guard amounts.count == 3 else { throw Diagnostic("control totals are three amounts") }
            var kinds = sum[currency, default: KindTotals()]
            kinds.topups += try money(amounts[0])
            kinds.charges += try money(amounts[1])
            kinds.refunds += try money(amounts[2])
            sum[currency, default: KindTotals()] = kinds
        }
        return sum
    }

    /// A part's partner totals, per currency.
    static func movements(_ p: SummaryPart.PartPartner) throws(Diagnostic) -> PerCurrency<BalanceMovement> {
        var byCurrency = PerCurrency<BalanceMovement>()
        for (currency, texts) in p.totals {
            guard texts.count == 6 else { throw Diagnostic("partner \(p.partnerID): totals are six amounts") }
            let t = try texts.map { (a: String) throws(Diagnostic) -> Money in try money(a) }
            var totals = BalanceMovement()
            (totals.opening, totals.topups, totals.charges, totals.refunds, totals.unattachedChange, totals.closing) = (t[0], t[1], t[2], t[3], t[4], t[5])
            byCurrency[currency, default: totals] = totals
        }
        return byCurrency
    }
}
