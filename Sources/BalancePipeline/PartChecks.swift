import BalanceReport
import BalanceSend
import BalanceOutput
import BalanceRender
import BalanceIngest
import BalanceModel
import BalanceSupport
/// Issue 19: a part of a run rendered per partner is checked against the others before anything is
/// merged, so a part edited by hand, or of another run, is refused with nothing published:
///
/// * each part's rejected records add up, per file, to the rejected count and amount it states;
/// * a render part's partner totals add up to the top-ups, charges and refunds its reports show;
/// * every record of every file is accounted for with its amount: the outcomes all parts count on
///   a file add up exactly to the amount its input part read (`SummaryPart.File.readAmount`), so
///   an amount edited in a rows file or a part no longer adds up;
/// * a render part's output (`MergedOutput`) is the render of that part: its marker's period is the
///   part's, its partner folders are the part's partners, its `summary.json` says the part's partner
///   totals, and every file it holds still has the SHA-256 its render recorded.
extension SummaryMerge {
    /// The sum of the amounts of every record of `export`, those rejected while reading included.
    static func readAmount(_ export: IngestedExport) -> Money {
        var sum = Money.zero
        for row in 0..<export.transactions.count { sum += export.transactions.amount(row) }
        for rejection in export.rejections where rejection.isRecord { sum += rejection.amount ?? .zero }
        // Rows a later export of their day replaces (`supersede`) were read too.
        for transaction in export.superseded { sum += transaction.amount }
        return sum
    }

    /// What one part says must agree with itself.
    static func checkConsistency(_ part: SummaryPart) throws(Diagnostic) {
        let name = part.role == "input" ? "the input part of \(part.files.first?.path ?? "?")" : "the render part of \(part.output ?? "?")"
        for (index, file) in part.files.enumerated() {
            var listed = Tally()
            for rejection in part.rejections where rejection.isRecord && rejection.file == index {
                listed.add(try rejection.amount.map { (a: String) throws(Diagnostic) -> Money in try money(a) }, part.currency)
            }
            let stated = try file.outcomes[Outcome.rejected.rawValue].map { (t: SummaryPart.PartTally) throws(Diagnostic) -> Tally in try Tally(t, currency: part.currency) } ?? Tally()
            if listed.count != stated.count || listed.oneCurrencyAmount != stated.oneCurrencyAmount {
                throw Diagnostic("\(name) lists \(listed.count) rejected record(s) of \(file.path) for \(listed.oneCurrencyAmount) but counts \(stated.count) for \(stated.oneCurrencyAmount): the part was edited; nothing published")
            }
        }
        guard part.role == "render" else { return }
        var sums = KindTotals()
        for partner in part.partners {
            guard partner.totals.count == 6 else { throw Diagnostic("partner \(partner.partnerID): totals are six amounts") }
            sums.topups += try money(partner.totals[1])
            sums.charges += try money(partner.totals[2])
            sums.refunds += try money(partner.totals[3])
        }
        let reported = try add(KindTotals(), part.reported)
        if sums != reported {
            throw Diagnostic("\(name): its partners' totals (top-ups \(sums.topups), charges \(sums.charges), refunds \(sums.refunds)) are not what its reports show (\(reported.topups), \(reported.charges), \(reported.refunds)): the part was edited; nothing published")
        }
    }

    /// Every file's records, with their amounts, are accounted for by the parts together: the
    /// failures, for the control totals (where the count already differs, that is said instead).
    static func checkReadAmounts(inputs: [SummaryPart], files: [RunSummary.FileSummary]) throws(Diagnostic) -> [String] {
        var failures: [String] = []
        for (index, part) in inputs.enumerated() {
            guard let text = part.files.first?.readAmount else {
                throw Diagnostic("the input part of \(part.files.first?.path ?? "?") does not say the amount its file holds (a part of an older balance-report): split the file again")
            }
            let read = try money(text)
            let counted = files[index].outcomes.values.reduce(Money.zero) { $0 + $1.oneCurrencyAmount }
            let count = files[index].outcomes.values.reduce(0) { $0 + $1.count }
            if count == files[index].records, counted != read {
                failures.append("\(files[index].path): its records amount to \(read) as split-export read them, but the parts account for \(counted): a part or a rows file was edited, or is of another run")
            }
        }
        return failures
    }
}
