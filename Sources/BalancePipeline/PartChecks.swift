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
    /// The sum of the amounts of every record of `export`, those rejected while reading included, per currency.
    static func readAmounts(_ export: IngestedExport) -> CurrencyAmounts {
        var sums = [Money](repeating: .zero, count: export.transactions.currencyNames.count)
        for row in 0..<export.transactions.count { sums[Int(export.transactions.currency(row))] += export.transactions.amount(row) }
        var amounts = CurrencyAmounts()
        for (number, sum) in sums.enumerated() { amounts.add(sum, export.transactions.currencyNames.names[number]) }
        for rejection in export.rejections where rejection.isRecord {
            if let amount = rejection.amount { amounts.add(amount, rejection.currency) }
        }
        // Rows a later export of their day replaces (`supersede`) were read too.
        for transaction in export.superseded { amounts.add(transaction.amount, transaction.currency) }
        return amounts
    }

    static func texts(_ amounts: CurrencyAmounts) -> [String: String] {
        Dictionary(uniqueKeysWithValues: amounts.entries.map { ($0.currency, $0.value.description) })
    }

    /// The currencies a run of `export` alone reports in (`RunReport.currencies`): its rows', its
    /// rejected and superseded amounts' and its checkpoints'.
    static func currencies(_ export: IngestedExport) -> [String] {
        var codes = Set(export.transactions.currencyNames.names.map { ByteKey($0) })
        for rejection in export.rejections where rejection.isRecord && rejection.amount != nil { codes.insert(ByteKey(rejection.currency)) }
        for transaction in export.superseded { codes.insert(ByteKey(transaction.currency)) }
        for client in export.clients { if let code = client.checkpoint?.currency { codes.insert(ByteKey(code)) } }
        return codes.sorted().map(\.text)
    }

    /// What one part says must agree with itself.
    static func checkConsistency(_ part: SummaryPart) throws(Diagnostic) {
        let name = part.role == "input" ? "the input part of \(part.files.first?.path ?? "?")" : "the render part of \(part.output ?? "?")"
        for (index, file) in part.files.enumerated() {
            var listed = Tally()
            for rejection in part.rejections where rejection.isRecord && rejection.file == index {
                listed.add(try rejection.amount.map { (a: String) throws(Diagnostic) -> Money in try money(a) }, rejection.currency)
            }
            let stated = try file.outcomes[Outcome.rejected.rawValue].map { (t: SummaryPart.PartTally) throws(Diagnostic) -> Tally in try Tally(t) } ?? Tally()
            if listed != stated {
                throw Diagnostic("\(name) lists \(listed.count) rejected record(s) of \(file.path) for \(amountsText(listed.amounts)) but counts \(stated.count) for \(amountsText(stated.amounts)): the part was edited; nothing published")
            }
        }
        guard part.role == "render" else { return }
        var sums = PerCurrency<KindTotals>()
        for partner in part.partners {
            for entry in try movements(partner).entries { sums[entry.currency, default: KindTotals()] = sums[entry.currency, default: KindTotals()] + KindTotals(entry.value) }
        }
        let reported = try add(PerCurrency(), part.reported)
        for currency in Set(sums.currencies + reported.currencies).sorted(by: byteOrder) {
            let (s, r) = (sums[currency] ?? KindTotals(), reported[currency] ?? KindTotals())
            if s != r {
                throw Diagnostic("\(name): its partners' totals (top-ups \(s.topups), charges \(s.charges), refunds \(s.refunds) \(currency)) are not what its reports show (\(r.topups), \(r.charges), \(r.refunds)): the part was edited; nothing published")
            }
        }
    }

    static func amountsText(_ amounts: CurrencyAmounts) -> String {
        amounts.isEmpty ? "0" : amounts.entries.map { "\($0.value) \($0.currency)" }.joined(separator: " and ")
    }

    /// Every file's records, with their amounts, are accounted for by the parts together: the
    /// failures, for the control totals (where the count already differs, that is said instead).
    static func checkReadAmounts(inputs: [SummaryPart], files: [RunSummary.FileSummary]) throws(Diagnostic) -> [String] {
        var failures: [String] = []
        for (index, part) in inputs.enumerated() {
            guard let texts = part.files.first?.readAmounts else {
                throw Diagnostic("the input part of \(part.files.first?.path ?? "?") does not say the amount its file holds (a part of an older balance-report): split the file again")
            }
            var read = CurrencyAmounts()
            for (currency, text) in texts { read.add(try money(text), currency) }
            let counted = files[index].outcomes.values.reduce(CurrencyAmounts()) { $0 + $1.amounts }
            let count = files[index].outcomes.values.reduce(0) { $0 + $1.count }
            // Per currency, zero sums left out on both sides.
            func nonZero(_ a: CurrencyAmounts) -> [CurrencyAmounts.Entry] { a.entries.filter { $0.value != .zero } }
            if count == files[index].records, nonZero(counted) != nonZero(read) {
                failures.append("\(files[index].path): its records amount to \(amountsText(read)) as split-export read them, but the parts account for \(amountsText(counted)): a part or a rows file was edited, or is of another run")
            }
        }
        return failures
    }
}
