import BalanceModel
import BalanceSupport
/// The reporting period `[first day 00:00 +03:00, day after the last 00:00 +03:00)`.
public struct ReportPeriod: Sendable, Equatable {
    public var firstDay: CivilDate
    public var lastDay: CivilDate

    public var interval: Interval {
        Interval(start: MoscowTime.midnight(firstDay), end: MoscowTime.midnight(lastDay.adding(days: 1)))
    }

    public init(firstDay: CivilDate, lastDay: CivilDate) throws(Diagnostic) {
        guard firstDay.isValid, lastDay.isValid else { throw Diagnostic("not a real date") }
        guard firstDay <= lastDay else { throw Diagnostic("the period ends before it starts") }
        self.firstDay = firstDay
        self.lastDay = lastDay
    }

    /// `2024-03` (a month), `2024-Q1` (a quarter) or `2024` (a year).
    public static func parse(_ text: String) throws(Diagnostic) -> ReportPeriod {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, first.count == 4, isDigits(first), let year = Int(first), year >= 1 else {
            throw Diagnostic("'\(text)' is not a period (use 2024-03, 2024-Q1 or 2024)")
        }
        if parts.count == 1 {
            return try ReportPeriod(firstDay: CivilDate(year: year, month: 1, day: 1), lastDay: CivilDate(year: year, month: 12, day: 31))
        }
        guard parts.count == 2 else { throw Diagnostic("'\(text)' is not a period (use 2024-03, 2024-Q1 or 2024)") }
        let second = parts[1]
        if second.count == 2, second.first == "Q" || second.first == "q", isDigits(second.dropFirst()),
           let quarter = Int(second.dropFirst()), (1...4).contains(quarter) {
            let lastMonth = quarter * 3
            return try ReportPeriod(firstDay: CivilDate(year: year, month: lastMonth - 2, day: 1),
                                    lastDay: CivilDate(year: year, month: lastMonth, day: CivilDate.daysInMonth(year: year, month: lastMonth)))
        }
        guard second.count == 2, isDigits(second), let month = Int(second), (1...12).contains(month) else {
            throw Diagnostic("'\(text)' is not a period (use 2024-03, 2024-Q1 or 2024)")
        }
        return try ReportPeriod(firstDay: CivilDate(year: year, month: month, day: 1),
                                lastDay: CivilDate(year: year, month: month, day: CivilDate.daysInMonth(year: year, month: month)))
    }

    /// `--from 2024-03-01 --to 2024-03-15`: both days inclusive, in Moscow time.
    public static func parse(from: String, to: String) throws(Diagnostic) -> ReportPeriod {
        try ReportPeriod(firstDay: parseDay(from), lastDay: parseDay(to))
    }

    static func parseDay(_ text: String) throws(Diagnostic) -> CivilDate {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2, parts.allSatisfy(isDigits),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else {
            throw Diagnostic("'\(text)' is not a date (use YYYY-MM-DD)")
        }
        let date = CivilDate(year: year, month: month, day: day)
        guard date.isValid else { throw Diagnostic("'\(text)' is not a real date") }
        return date
    }

    /// ASCII digits only: `Int("+3")` would otherwise let `2024-+3` through as March.
    static func isDigits<S: StringProtocol>(_ text: S) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// `2024-03-01 – 2024-03-31`.
    public var label: String { firstDay.isoText + " – " + lastDay.isoText }
}

