import BalanceModel
import BalanceReport
import BalanceSupport

// A run's files, records and tallies as a summary part (`SummaryPart`) holds them, and back.

extension SummaryPart.File {
    init(_ file: RunSummary.FileSummary) {
        self.init(path: file.path, format: file.format.rawValue, kinds: file.kinds.map(\.rawValue), records: file.records,
                  blankRows: file.blankRows, provenance: file.isProvenance, outcomes: SummaryPart.tallies(file.outcomes))
    }

    init(InputFile file: InputFile) {
        self.init(path: file.path, format: file.format.rawValue, kinds: file.kinds.map(\.rawValue), records: file.records,
                  blankRows: file.blankRows, provenance: file.isProvenance, outcomes: [:])
    }
}

extension SummaryPart.PartTally {
    init(_ tally: Tally) {
        self.init(count: tally.count, amounts: Dictionary(uniqueKeysWithValues: tally.amounts.entries.map { ($0.currency, $0.value.description) }))
    }
}

extension SummaryPart.PartRejection {
    init(_ r: Rejection) {
        self.init(file: Int(r.source.file), line: Int(r.source.line), kind: r.kind?.rawValue, reason: r.reason,
                  id: r.recordID, amount: r.amount?.description, currency: r.currency, isRecord: r.isRecord)
    }
}

extension SummaryPart.PartDuplicate {
    init(_ d: Duplicate) {
        self.init(kind: d.kind.rawValue, file: Int(d.source.file), line: Int(d.source.line),
                  originalFile: Int(d.original.file), originalLine: Int(d.original.line))
    }
}

extension Tally {
    /// A part's tally: its count and its amounts per currency.
    init(_ part: SummaryPart.PartTally) throws(Diagnostic) {
        self.init()
        count = part.count
        for (currency, text) in part.amounts {
            let amount = try SummaryMerge.money(text)
            if amount != .zero { amounts.add(amount, currency) }
        }
    }
}
