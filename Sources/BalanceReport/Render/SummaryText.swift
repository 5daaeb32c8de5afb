/// The run summary as the lines printed on stderr: what finance reads after every run.
public enum SummaryText {
    public static func lines(_ report: RunReport, maxRejections: Int = 50) -> [String] {
        let summary = report.summary
        var lines: [String] = []
        lines.append("period \(report.period.label) (Moscow time, UTC+03:00), currency \(report.currency)")
        for file in summary.files {
            let parts = Outcome.allCases.compactMap { outcome -> String? in
                guard let tally = file.outcomes[outcome], tally.count > 0 else { return nil }
                return "\(outcome.rawValue.replacingOccurrences(of: "_", with: " ")) \(tally.count)"
            }
            let kinds = file.kinds.map(\.rawValue).joined(separator: "+")
            lines.append("  \(file.path) [\(file.format.rawValue)\(kinds.isEmpty ? "" : " " + kinds)]: \(file.records) records" + (parts.isEmpty ? "" : ": " + parts.joined(separator: ", ")))
            if file.blankRows > 0 { lines.append("    \(file.blankRows) blank row(s) (no record in them) passed over") }
            for problem in file.problems { lines.append("    problem at line \(problem)") }
        }
        for kind in RecordKind.allCases {
            guard let tallies = summary.outcomes[kind], !tallies.isEmpty else { continue }
            let parts = Outcome.allCases.map { outcome -> String in
                let tally = tallies[outcome] ?? Tally()
                let amount = kind == .transaction ? " (\(tally.amount))" : ""
                return "\(outcome.rawValue.replacingOccurrences(of: "_", with: " ")) \(tally.count)\(amount)"
            }
            lines.append("\(kind.rawValue)s: " + parts.joined(separator: ", "))
        }
        let accepted = summary.acceptedTotals
        lines.append("control totals: top-ups \(accepted.topups), charges \(accepted.charges), refunds \(accepted.refunds); "
                     + (summary.controlFailures.isEmpty ? "the reports show exactly these" : "MISMATCH"))
        for failure in summary.controlFailures { lines.append("  control failure: \(failure)") }
        if summary.rejectedWithoutAmount > 0 {
            lines.append("  \(summary.rejectedWithoutAmount) rejected transaction(s) had no readable amount")
        }
        for partner in report.partners {
            lines.append("partner \(partner.partnerID): \(partner.clients.count) clients")
        }
        for rejection in summary.rejections.prefix(maxRejections) {
            lines.append(SummaryJSON.location(summary, rejection.source) + ": " + rejection.reason)
        }
        if summary.rejections.count > maxRejections {
            lines.append("… and \(summary.rejections.count - maxRejections) more rejections (all of them in summary.json / rejects.csv)")
        }
        return lines
    }
}
