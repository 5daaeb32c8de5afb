import BalanceModel
import BalanceSupport

/// A period that holds none of the run's transactions: a run for the wrong month (`--period
/// 2023-01` on exports of 2024) would otherwise succeed with empty reports and say nothing.
public struct EmptyPeriod: Sendable {
    /// Transactions the run read (accepted by the ledger: no rejected or duplicate ones).
    public var transactions: Int
    /// The first and the last Moscow day they fall on; `nil` without any.
    public var span: (first: CivilDate, last: CivilDate)?

    /// `nil` when some transaction of the ledger falls inside `period`.
    public static func check(_ ledger: Ledger, period: ReportPeriod) -> EmptyPeriod? {
        let interval = period.interval
        var count = 0
        var first: Instant? = nil
        var last: Instant? = nil
        func see(_ instant: Instant) -> Bool {
            count += 1
            if first.map({ instant < $0 }) ?? true { first = instant }
            if last.map({ $0 < instant }) ?? true { last = instant }
            return interval.contains(instant)
        }
        for client in ledger.clients.values {
            let transactions = client.transactions
            for index in transactions.indices where see(transactions.instant(index)) { return nil }
        }
        for transaction in ledger.unknownClientTransactions where see(transaction.instant) { return nil }
        return EmptyPeriod(transactions: count,
                           span: first.map { (MoscowTime.date(of: $0), MoscowTime.date(of: last!)) })
    }

    /// What is wrong, for a warning or (with `--fail-on-empty`) an error.
    public func message(_ period: ReportPeriod) -> String {
        guard let span else {
            return "the period \(period.label) is empty: the inputs hold no transaction at all, so every report is empty"
        }
        return "the period \(period.label) holds none of the \(transactions) transaction(s) read: they fall on "
            + "\(span.first.isoText) to \(span.last.isoText) (Moscow days), so every report of this period is empty"
    }
}
