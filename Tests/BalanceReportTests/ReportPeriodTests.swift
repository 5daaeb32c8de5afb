@testable import BalanceTestSupport
@testable import BalancePipeline
@testable import BalanceSend
@testable import BalanceOutput
@testable import BalanceRender
@testable import BalanceReport
@testable import BalanceIngest
@testable import BalanceModel
@testable import BalanceSupport
import Testing

@Suite("Report: period")
struct ReportPeriodTests: ModelBuilders {
    @Test("a month: first to last day, from Moscow midnight to the next month's Moscow midnight")
    func month() throws {
        let period = try ReportPeriod.parse("2024-03")
        #expect(period.firstDay == day("2024-03-01"))
        #expect(period.lastDay == day("2024-03-31"))
        #expect(period.interval.start == at("2024-02-29T21:00:00Z"))
        #expect(period.interval.end == at("2024-03-31T21:00:00Z"))
        #expect(period.interval.start == Instant(seconds: 1_709_240_400))
        #expect(period.label == "2024-03-01 – 2024-03-31")
    }

    @Test("February has 29 days in leap years only", arguments: [
        ("2024-02", "2024-02-29"), ("2023-02", "2023-02-28"), ("2000-02", "2000-02-29"), ("2100-02", "2100-02-28"),
        ("2024-04", "2024-04-30"), ("2024-12", "2024-12-31"), ("2024-01", "2024-01-31"),
    ])
    func monthLengths(text: String, last: String) throws {
        let period = try ReportPeriod.parse(text)
        #expect(period.lastDay == day(last))
        #expect(period.interval.end == MoscowTime.midnight(day(last).adding(days: 1)))
    }

    @Test("a quarter", arguments: [
        ("2024-Q1", "2024-01-01", "2024-03-31"),
        ("2024-Q2", "2024-04-01", "2024-06-30"),
        ("2024-Q3", "2024-07-01", "2024-09-30"),
        ("2024-Q4", "2024-10-01", "2024-12-31"),
        ("2023-q1", "2023-01-01", "2023-03-31"),
    ])
    func quarter(text: String, first: String, last: String) throws {
        let period = try ReportPeriod.parse(text)
        #expect(period.firstDay == day(first))
        #expect(period.lastDay == day(last))
    }

    @Test("a year")
    func year() throws {
        let period = try ReportPeriod.parse("2024")
        #expect(period.firstDay == day("2024-01-01"))
        #expect(period.lastDay == day("2024-12-31"))
        #expect(period.interval.start == at("2023-12-31T21:00:00Z"))
        #expect(period.interval.end == at("2024-12-31T21:00:00Z"))
        // 366 days in 2024.
        #expect(period.interval.end.seconds - period.interval.start.seconds == 366 * 86_400)
    }

    @Test("--from/--to: both days inclusive, in Moscow time")
    func fromTo() throws {
        let period = try ReportPeriod.parse(from: "2024-03-01", to: "2024-03-15")
        #expect(period.firstDay == day("2024-03-01"))
        #expect(period.lastDay == day("2024-03-15"))
        #expect(period.interval.start == at("2024-03-01T00:00:00+03:00"))
        #expect(period.interval.end == at("2024-03-16T00:00:00+03:00"))
        #expect(period.interval.contains(at("2024-03-15T23:59:59.999+03:00")))
        #expect(!period.interval.contains(at("2024-03-16T00:00:00+03:00")))

        let oneDay = try ReportPeriod.parse(from: "2024-02-29", to: "2024-02-29")
        #expect(oneDay.interval.start == at("2024-02-28T21:00:00Z"))
        #expect(oneDay.interval.end == at("2024-02-29T21:00:00Z"))

        let acrossYears = try ReportPeriod.parse(from: "2023-12-31", to: "2024-01-01")
        #expect(acrossYears.interval.end.seconds - acrossYears.interval.start.seconds == 2 * 86_400)
    }

    @Test("invalid periods are rejected", arguments: [
        "2024-13", "2024-00", "2024-Q5", "2024-Q0", "24-03", "2024-3", "2024-003", "", "2024-", "-03",
        "2024-03-01", "abcd", "2024-Q", "2024-Q12", "2024/03", "0000", "2024-+3", "+024", "+024-03", " 2024",
    ])
    func invalidPeriod(text: String) {
        #expect(throws: Diagnostic.self) { try ReportPeriod.parse(text) }
    }

    @Test("invalid --from/--to are rejected", arguments: [
        ("2024-03-15", "2024-03-01"),   // from after to
        ("2024-02-30", "2024-03-01"),   // no such day
        ("2024-03-01", "2023-02-29"),   // no leap day in 2023
        ("2024-3-01", "2024-03-15"),
        ("2024/03/01", "2024-03-15"),
        ("2024-03-01T00:00", "2024-03-15"),
        ("2024-03", "2024-03-15"),
        ("2024-03-01", ""),
        ("2024-+3-01", "2024-03-15"),
        ("2024-03-+1", "2024-03-15"),
    ])
    func invalidRange(from: String, to: String) {
        #expect(throws: Diagnostic.self) { try ReportPeriod.parse(from: from, to: to) }
    }

    @Test("a period built from impossible days is rejected")
    func impossibleDays() {
        #expect(throws: Diagnostic.self) {
            try ReportPeriod(firstDay: CivilDate(year: 2024, month: 2, day: 30), lastDay: CivilDate(year: 2024, month: 3, day: 1))
        }
        #expect(throws: Diagnostic.self) {
            try ReportPeriod(firstDay: CivilDate(year: 2024, month: 3, day: 2), lastDay: CivilDate(year: 2024, month: 3, day: 1))
        }
    }
}
