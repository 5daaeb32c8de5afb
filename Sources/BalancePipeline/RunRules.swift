import BalanceModel
import BalanceReport
import BalanceSupport

/// The rules that decide whether a run may publish anything (SPEC §3).
enum RunRules {
    /// Rejected records stop a run unless `--allow-rejects`; control totals that do not add up
    /// always do; a period that holds none of the transactions read is a warning, or with
    /// `--fail-on-empty` an error.
    static func check(_ report: RunReport, ledger: Ledger, request: RenderRequest, observer: any RunObserver) throws(RunError) {
        if let empty = EmptyPeriod.check(ledger, period: report.period) {
            if request.failOnEmpty {
                throw RunError(empty.message(report.period) + "; no report written (--fail-on-empty)")
            }
            observer.report(.warning(empty.message(report.period) + " (--fail-on-empty makes this an error)"))
        }
        let summary = report.summary
        if summary.hasRejections && !request.allowRejects {
            throw RunError(rejectionsLine(summary, written: "no report written", offerAllowRejects: true))
        }
        if !summary.controlFailures.isEmpty {
            throw RunError("control totals do not reconcile; no report written")
        }
    }

    /// The closing line of a run with rejected records: how many, and what to do. Text that is not
    /// UTF-8 is an encoding to declare, never records to leave out: then `--allow-rejects` is not offered.
    static func rejectionsLine(_ summary: RunSummary, written: String, offerAllowRejects: Bool) -> String {
        let count = summary.rejections.count
        let encoding = summary.rejections.filter { $0.reason.hasSuffix("is not valid UTF-8") }.count
        if encoding > 0 {
            return "\(count) rejected record(s), \(encoding) of them with text that is not UTF-8; \(written): "
                + "give the file in UTF-8, or declare its encoding (--encoding cp1251 for Windows-1251)"
        }
        return "\(count) rejected record(s); \(written)"
            + (offerAllowRejects ? " (fix them, or use --allow-rejects to render the rest and list them in rejects.csv)" : "")
    }
}
