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

@Suite("Model: CivilDate and Moscow time")
struct CalendarTests: ModelBuilders {
    // MARK: days since the epoch

    @Test("known days since 1970-01-01", arguments: [
        ("1970-01-01", Int64(0)),
        ("1969-12-31", Int64(-1)),
        ("1970-03-01", Int64(59)),            // 31 + 28
        ("2000-01-01", Int64(10_957)),        // 946684800 / 86400
        ("2000-02-29", Int64(11_016)),        // 10957 + 31 + 28
        ("2000-03-01", Int64(11_017)),
        ("2024-01-01", Int64(19_723)),        // 1704067200 / 86400
        ("2024-02-29", Int64(19_782)),        // 19723 + 31 + 28
        ("2024-03-01", Int64(19_783)),
        ("1900-03-01", Int64(-25_508)),       // 1900 is no leap year: -25567 + 31 + 28
        ("0001-01-01", Int64(-719_162)),
    ])
    func knownDays(date: String, days: Int64) {
        #expect(day(date).daysSinceEpoch == days)
        #expect(CivilDate(daysSinceEpoch: days) == day(date))
    }

    @Test("round trip day by day from 1600 to 2400, checked against a plain calendar walk")
    func roundTripWalk() {
        // Walk the calendar by hand (next day, month, year) and compare each step with the formulas.
        var date = CivilDate(year: 1600, month: 1, day: 1)
        var days = date.daysSinceEpoch
        #expect(days == -135_140) // 1600-01-01: 370 years of 365 days + 90 leap days before 1970
        var mismatches = 0
        while date.year <= 2400 {
            if CivilDate(daysSinceEpoch: days) != date || date.daysSinceEpoch != days { mismatches += 1 }
            #expect(date.isValid)
            // Next day, without the product's help.
            let leap = (date.year % 4 == 0 && date.year % 100 != 0) || date.year % 400 == 0
            let monthLength = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][date.month - 1]
            if date.day == 1 { #expect(!CivilDate(year: date.year, month: date.month, day: monthLength + 1).isValid, "\(date.year)-\(date.month)-\(monthLength + 1)") }
            if date.day < monthLength {
                date.day += 1
            } else if date.month < 12 {
                date = CivilDate(year: date.year, month: date.month + 1, day: 1)
            } else {
                date = CivilDate(year: date.year + 1, month: 1, day: 1)
            }
            days += 1
        }
        #expect(mismatches == 0)
        #expect(date == CivilDate(year: 2401, month: 1, day: 1))
    }

    @Test("adding days crosses the epoch, month ends and leap days")
    func addingDays() {
        #expect(day("1969-12-31").adding(days: 1) == day("1970-01-01"))
        #expect(day("1970-01-01").adding(days: -1) == day("1969-12-31"))
        #expect(day("2024-02-28").adding(days: 1) == day("2024-02-29"))
        #expect(day("2024-02-29").adding(days: 1) == day("2024-03-01"))
        #expect(day("2023-02-28").adding(days: 1) == day("2023-03-01"))
        #expect(day("2024-12-31").adding(days: 1) == day("2025-01-01"))
    }

    @Test("leap days are valid only in leap years; impossible dates are not valid")
    func validity() {
        #expect(day("2024-02-29").isValid)
        #expect(day("2000-02-29").isValid)
        #expect(!day("2023-02-29").isValid)
        #expect(!day("1900-02-29").isValid)
        #expect(!day("2024-02-30").isValid)
        #expect(!day("2024-04-31").isValid)
        #expect(!CivilDate(year: 2024, month: 13, day: 1).isValid)
        #expect(!CivilDate(year: 2024, month: 0, day: 1).isValid)
        #expect(!CivilDate(year: 2024, month: 1, day: 0).isValid)
    }

    @Test("dates order by year, month, day and print as YYYY-MM-DD")
    func orderAndText() {
        #expect(day("2024-02-29") < day("2024-03-01"))
        #expect(day("2023-12-31") < day("2024-01-01"))
        #expect(day("2024-03-09") < day("2024-03-10"))
        #expect(day("0987-03-05").isoText == "0987-03-05")
        #expect(day("2024-02-29").isoText == "2024-02-29")
    }

    // MARK: Moscow time

    @Test("the Moscow day turns at 21:00:00Z")
    func moscowDayBoundary() {
        #expect(MoscowTime.date(of: at("2024-02-29T20:59:59Z")) == day("2024-02-29"))
        #expect(MoscowTime.date(of: at("2024-02-29T21:00:00Z")) == day("2024-03-01"))
        #expect(MoscowTime.date(of: at("2024-02-29T20:59:59.999999999Z")) == day("2024-02-29"))
        // Before the epoch the division must floor, not truncate.
        #expect(MoscowTime.date(of: at("1969-12-31T20:59:59Z")) == day("1969-12-31"))
        #expect(MoscowTime.date(of: at("1969-12-31T21:00:00Z")) == day("1970-01-01"))
        #expect(MoscowTime.date(of: Instant(seconds: -10_801)) == day("1969-12-31"))
        #expect(MoscowTime.date(of: Instant(seconds: -10_800)) == day("1970-01-01"))
        // Fixed +03:00 also before 2014 (no DST, no tz database).
        #expect(MoscowTime.date(of: at("2010-07-01T20:30:00Z")) == day("2010-07-01"))
        #expect(MoscowTime.date(of: at("2010-07-01T21:00:00Z")) == day("2010-07-02"))
    }

    @Test("Moscow midnight is 21:00:00Z of the day before")
    func moscowMidnight() {
        // 2024-03-01T00:00:00Z = 1709251200; minus 3 hours.
        #expect(MoscowTime.midnight(day("2024-03-01")) == Instant(seconds: 1_709_240_400))
        #expect(MoscowTime.midnight(day("2024-03-01")) == at("2024-02-29T21:00:00Z"))
        #expect(MoscowTime.midnight(day("1970-01-01")) == Instant(seconds: -10_800))
        #expect(MoscowTime.midnight(day("2010-07-01")) == at("2010-06-30T21:00:00Z"))
        for text in ["1969-12-31", "1970-01-01", "2000-02-29", "2024-02-29", "2024-03-31"] {
            #expect(MoscowTime.date(of: MoscowTime.midnight(day(text))) == day(text))
            let secondBefore = Instant(seconds: MoscowTime.midnight(day(text)).seconds - 1)
            #expect(MoscowTime.date(of: secondBefore) == day(text).adding(days: -1))
        }
    }

    @Test("Moscow wall-clock text keeps the input's fractional digits")
    func moscowText() {
        #expect(MoscowTime.isoText(at("2024-03-31T20:59:59.750Z")) == "2024-03-31T23:59:59.750+03:00")
        #expect(MoscowTime.isoText(at("2024-02-29T21:00:00Z")) == "2024-03-01T00:00:00+03:00")
        #expect(MoscowTime.isoText(at("2024-03-01T00:15:00+0300")) == "2024-03-01T00:15:00+03:00")
        #expect(MoscowTime.isoText(at("2024-03-01T00:15:00.000001+03:00")) == "2024-03-01T00:15:00.000001+03:00")
        #expect(MoscowTime.isoText(Instant(seconds: -1)) == "1970-01-01T02:59:59+03:00")
    }

    @Test("one moment written in different offsets is one instant")
    func offsetsAreOneMoment() {
        let moment = at("2024-03-05T09:00:00Z")
        #expect(at("2024-03-05T12:00:00+03:00") == moment)
        #expect(at("2024-03-05T12:00:00+0300") == moment)
        #expect(at("2024-03-05 12:00:00") == moment)
        #expect(at("05.03.2024 12:00:00") == moment)
        #expect(at("2024-03-05T04:00:00-05:00") == moment)
        #expect(at("1709629200") == moment)
        // Fraction digits are remembered for output only; they are not part of the moment.
        #expect(at("2024-03-05T09:00:00.000Z") == moment)
        #expect(at("2024-03-05T09:00:00.000Z").hashValue == moment.hashValue)
        #expect(at("2024-03-05T09:00:00.001Z") > moment)
    }
}
