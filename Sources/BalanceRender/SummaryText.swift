import BalanceReport
import BalanceModel
import BalanceSupport
/// The run summary as the lines printed on stderr: what finance reads after every run.
///
/// It reads like a report: the outcomes and the control totals are tables with the amounts
/// grouped (`310 807 415,37`) and right-aligned in their columns, rounded to kopecks (the exact
/// figures are in `summary.json`, and the control check itself is exact).
public enum SummaryText {
    public static func lines(_ report: RunReport, maxRejections: Int = 50) -> [String] {
        let summary = report.summary
        var lines: [String] = []
        let currencies = report.currencies.isEmpty ? ["RUB"] : report.currencies
        let currencyText = (currencies.count > 1 ? "currencies " : "currency ") + currencies.joined(separator: ", ")
        switch report.periodOrigin {
        case .given:
            lines.append("period \(report.period.label) (Moscow time, UTC+03:00), \(currencyText)")
        case .transactions:
            lines.append("period \(report.period.label), the first to the last transaction (Moscow time, UTC+03:00), \(currencyText)")
        case .none:
            lines.append("period: none (no transaction was read)")
        }
        for file in summary.files {
            let parts = Outcome.allCases.compactMap { outcome -> String? in
                guard let tally = file.outcomes[outcome], tally.count > 0 else { return nil }
                return "\(label(outcome)) \(tally.count)"
            }
            let kinds = file.kinds.map(\.rawValue).joined(separator: "+")
            lines.append("  \(file.path) [\(file.format.rawValue)\(kinds.isEmpty ? "" : " " + kinds)]: \(file.records) records" + (parts.isEmpty ? "" : ": " + parts.joined(separator: ", ")))
            if file.blankRows > 0 { lines.append("    \(file.blankRows) blank row(s) (no record in them) passed over") }
            for problem in file.problems { lines.append("    problem at line \(problem)") }
        }

        // Records by outcome: a column of counts per kind read, and the transactions' amounts.
        let kinds = RecordKind.allCases.filter { !(summary.outcomes[$0] ?? [:]).isEmpty }
        if !kinds.isEmpty {
            var header = ["records"]
            for kind in kinds {
                header.append("\(kind.rawValue)s")
                if kind == .transaction { header += currencies.map { "amount, \($0)" } }
            }
            var rows = [header]
            for outcome in Outcome.allCases {
                var row = ["  " + label(outcome)]
                for kind in kinds {
                    let tally = summary.outcomes[kind]?[outcome] ?? Tally()
                    row.append(Digits.grouped(Int128(tally.count), separator: " "))
                    if kind == .transaction { row += currencies.map { amount(tally.amounts[$0] ?? .zero) } }
                }
                rows.append(row)
            }
            lines += table(rows)
        }
        if summary.rejectedWithoutAmount > 0 {
            lines.append("  \(summary.rejectedWithoutAmount) rejected transaction(s) had no readable amount")
        }

        // Control totals per currency: never one sum of two.
        var totals: [[String]] = []
        for currency in currencies {
            let accepted = summary.acceptedTotals[currency] ?? KindTotals()
            let reported = summary.reportedTotals[currency] ?? KindTotals()
            totals.append(["control totals, \(currency)", "top-ups", "charges", "refunds"])
            totals.append(["  accepted transactions", amount(accepted.topups), amount(accepted.charges), amount(accepted.refunds)])
            if accepted != reported {
                totals.append(["  in the reports", amount(reported.topups), amount(reported.charges), amount(reported.refunds)])
            }
        }
        lines += table(totals)
        lines.append(summary.controlFailures.isEmpty
                     ? "  the reports show exactly these (amounts here rounded to kopecks)"
                     : "  MISMATCH: the reports do not show what was accepted")
        for failure in summary.controlFailures { lines.append("  control failure: \(failure)") }
        for entry in summary.amountRounding.entries {
            lines.append("  \(entry.value.count) float-printed amount(s) rounded half to even to 12 fractional digits; total difference (rounded − written) \(entry.value.difference) \(entry.currency)")
        }
        for partner in report.partners {
            let entries = partner.clients.count == partner.clientCount ? "" : " (\(partner.clients.count) rows: a row per client and currency)"
            lines.append("partner \(partner.partnerID): \(partner.clientCount) clients" + entries)
        }
        // Unknown clients by name, the largest first: where finance looks for them.
        let unknown = summary.unknownClients
        if !unknown.isEmpty {
            lines.append("unknown clients (in no report; all \(unknown.count) in unknown-clients.csv and summary.json):")
            for entry in UnknownClient.top(unknown, count: maxUnknownClients) {
                lines.append("  \(entry.clientID): \(entry.transactions) transaction(s), \(amount(entry.amount)) \(entry.currency), first at \(SummaryJSON.location(summary, entry.first))")
            }
            if unknown.count > maxUnknownClients { lines.append("  … and \(unknown.count - maxUnknownClients) more") }
        }
        for rejection in summary.rejections.prefix(maxRejections) {
            lines.append(SummaryJSON.location(summary, rejection.source) + ": " + rejection.reason)
        }
        if summary.rejections.count > maxRejections {
            lines.append("… and \(summary.rejections.count - maxRejections) more rejections (all of them in summary.json / rejects.csv)")
        }
        return lines
    }

    /// Unknown clients named on stderr; the rest are in `unknown-clients.csv`.
    public static let maxUnknownClients = 5

    static func label(_ outcome: Outcome) -> String {
        outcome.rawValue.replacingOccurrences(of: "_", with: " ")
    }

    /// `310 807 415,37`: rounded half away from zero to kopecks (cents), thousands grouped with a
    /// space, decimal comma, `-` for a negative amount (a terminal shows every one of them plainly).
    public static func amount(_ money: Money) -> String {
        let kopecks = money.roundedKopecks
        let magnitude = kopecks < 0 ? -kopecks : kopecks
        let fraction = Int(magnitude % 100)
        return (kopecks < 0 ? "-" : "") + Digits.grouped(magnitude / 100, separator: " ") + "," + (fraction < 10 ? "0" : "") + String(fraction)
    }

    /// Columns padded to their widest cell: the first left-aligned, the others right-aligned, two
    /// spaces apart.
    static func table(_ rows: [[String]]) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            var line = ""
            for (column, cell) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                line += column == 0 ? cell + pad : "  " + pad + cell
            }
            return line
        }
    }
}
