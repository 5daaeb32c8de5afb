import Testing
@testable import BalanceTestSupport
@testable import BalancePipeline
@testable import BalanceSend
@testable import BalanceOutput
@testable import BalanceRender
@testable import BalanceReport
@testable import BalanceIngest
@testable import BalanceModel
@testable import BalanceSupport

/// SPEC §2.4: every accepted timestamp form, real range checks, Moscow normalisation.
@Suite("TimestampParser")
struct IngestTimestampParserTests {
    /// 2024-03-01T00:15:00Z in Unix seconds (2024-03-01T00:00:00Z is 1_709_251_200).
    static let quarterPastMidnightUTC: Int64 = 1_709_252_100
    static let msk: Int64 = 3 * 3600

    struct Form: Sendable, CustomTestStringConvertible {
        var text: String
        var seconds: Int64
        var nanoseconds: Int32 = 0
        var fractionDigits: Int8 = 0
        var naiveOffset: Int64 = MoscowTime.offsetSeconds
        var testDescription: String { "\"\(text)\" @\(naiveOffset)s" }
    }

    static let forms: [Form] = [
        Form(text: "2024-03-01T00:15:00Z", seconds: quarterPastMidnightUTC),
        Form(text: "2024-03-01T00:15:00z", seconds: quarterPastMidnightUTC),
        Form(text: "2024-03-01T00:15:00+03:00", seconds: quarterPastMidnightUTC - msk),
        Form(text: "2024-03-01T00:15:00+0300", seconds: quarterPastMidnightUTC - msk),
        Form(text: "2024-03-01T00:15:00+03", seconds: quarterPastMidnightUTC - msk),
        Form(text: "2024-03-01T00:15:00-05:00", seconds: quarterPastMidnightUTC + 5 * 3600),
        Form(text: "2024-03-01T00:15:00+05:30", seconds: quarterPastMidnightUTC - 5 * 3600 - 1800),
        Form(text: "2024-03-01T00:15:00+00:00", seconds: quarterPastMidnightUTC),
        Form(text: "2024-03-01 00:15:00Z", seconds: quarterPastMidnightUTC),
        // Fractional seconds keep their digits for the output.
        Form(text: "2024-03-01T00:15:00.750Z", seconds: quarterPastMidnightUTC, nanoseconds: 750_000_000, fractionDigits: 3),
        Form(text: "2024-03-01T00:15:00.5+03:00", seconds: quarterPastMidnightUTC - msk, nanoseconds: 500_000_000, fractionDigits: 1),
        Form(text: "2024-03-01T00:15:00.000001Z", seconds: quarterPastMidnightUTC, nanoseconds: 1_000, fractionDigits: 6),
        Form(text: "2024-03-01T00:15:00.123456789Z", seconds: quarterPastMidnightUTC, nanoseconds: 123_456_789, fractionDigits: 9),
        Form(text: "2024-03-01 00:15:00.250", seconds: quarterPastMidnightUTC - msk, nanoseconds: 250_000_000, fractionDigits: 3),
        // Naive forms are read at +03:00 by default…
        Form(text: "2024-03-01 00:15:00", seconds: quarterPastMidnightUTC - msk),
        Form(text: "2024-03-01T00:15:00", seconds: quarterPastMidnightUTC - msk),
        Form(text: "01.03.2024 00:15:00", seconds: quarterPastMidnightUTC - msk),
        // …also before 2014: a fixed +03:00, no tz database.
        Form(text: "2010-01-01 00:00:00", seconds: 1_262_304_000 - msk),
        Form(text: "1999-07-15 12:00:00", seconds: 932_040_000 - msk),
        // …and at the run's offset when one is given.
        Form(text: "2024-03-01 00:15:00", seconds: quarterPastMidnightUTC, naiveOffset: 0),
        Form(text: "2024-03-01T00:15:00", seconds: quarterPastMidnightUTC + 5 * 3600, naiveOffset: -5 * 3600),
        Form(text: "01.03.2024 00:15:00", seconds: quarterPastMidnightUTC - 7 * 3600, naiveOffset: 7 * 3600),
        // An explicit offset wins over the run's offset.
        Form(text: "2024-03-01T00:15:00Z", seconds: quarterPastMidnightUTC, naiveOffset: 7 * 3600),
        Form(text: "2024-03-01T00:15:00+03:00", seconds: quarterPastMidnightUTC - msk, naiveOffset: -5 * 3600),
        // Unix seconds are absolute: no offset applies.
        Form(text: "1709251200", seconds: 1_709_251_200),
        Form(text: "1709251200", seconds: 1_709_251_200, naiveOffset: -5 * 3600),
        Form(text: "0", seconds: 0),
        // Leap days.
        Form(text: "2024-02-29T12:00:00Z", seconds: 1_709_208_000),
        Form(text: "29.02.2024 15:00:00", seconds: 1_709_208_000),
        Form(text: "2000-02-29 03:00:00", seconds: 951_782_400),
        // Ends of ranges.
        Form(text: "2024-12-31T23:59:59Z", seconds: 1_735_689_599),
        Form(text: "2024-03-31T20:59:59.750Z", seconds: 1_711_918_799, nanoseconds: 750_000_000, fractionDigits: 3),
    ]

    @Test("every SPEC §2.4 form gives the right instant", arguments: forms)
    func parsesForm(_ form: Form) throws {
        let instant = try TimestampParser.parse(form.text, naiveOffsetSeconds: form.naiveOffset)
        #expect(instant.seconds == form.seconds)
        #expect(instant.nanoseconds == form.nanoseconds)
        #expect(instant.fractionDigits == form.fractionDigits)
    }

    @Test("the default naive offset is Moscow's +03:00")
    func defaultOffsetIsMoscow() throws {
        #expect(MoscowTime.offsetSeconds == 10_800)
        #expect(try TimestampParser.parse("2024-03-01 00:15:00").seconds == Self.quarterPastMidnightUTC - Self.msk)
    }

    @Test("one instant written in different forms and offsets compares equal")
    func sameInstantEqual() throws {
        let writings = [
            "2024-03-01T00:15:00Z",
            "2024-03-01T03:15:00+03:00",
            "2024-03-01T03:15:00+0300",
            "2024-02-29T19:15:00-05:00",
            "2024-03-01T05:45:00+05:30",
            "2024-03-01 03:15:00",
            "2024-03-01T03:15:00",
            "01.03.2024 03:15:00",
            "1709252100",
            "2024-03-01T00:15:00.000Z",
        ]
        let instants = try writings.map { try TimestampParser.parse($0) }
        for (text, instant) in zip(writings, instants) {
            #expect(instant == instants[0], "\(text)")
            #expect(instant.hashValue == instants[0].hashValue, "\(text)")
            #expect(!(instant < instants[0]) && !(instants[0] < instant), "\(text)")
        }
        // The digits remembered for output take no part in equality.
        #expect(try TimestampParser.parse("2024-03-01T00:15:00.75Z") == TimestampParser.parse("2024-03-01T03:15:00.750000+03:00"))
        // Instants order by time, not by text.
        #expect(try TimestampParser.parse("2024-03-01T00:15:00.001Z") > instants[0])
        #expect(try TimestampParser.parse("2024-03-01T03:14:59+03:00") < instants[0])
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var text: String
        var reason: String? = nil
        var testDescription: String { "\"\(text)\"" }
    }

    static let rejected: [Bad] = [
        Bad(text: "2024-02-30 10:00:00", reason: "impossible date"),
        Bad(text: "2023-02-29T00:00:00Z", reason: "impossible date"),
        Bad(text: "1900-02-29 00:00:00", reason: "impossible date"),
        Bad(text: "2024-04-31T00:00:00Z", reason: "impossible date"),
        Bad(text: "2024-03-01 24:00:01", reason: "impossible time"),
        Bad(text: "2024-03-01 24:00:00", reason: "impossible time"),
        Bad(text: "2024-13-01T00:00:00Z", reason: "impossible date"),
        Bad(text: "2024-00-01T00:00:00Z", reason: "impossible date"),
        Bad(text: "2024-03-00T00:00:00Z", reason: "impossible date"),
        Bad(text: "2024-03-32T00:00:00Z", reason: "impossible date"),
        Bad(text: "0000-01-01T00:00:00Z", reason: "impossible date"),
        Bad(text: "2024-03-01T10:00:60Z", reason: "impossible time"),
        Bad(text: "2024-03-01T10:60:00Z", reason: "impossible time"),
        Bad(text: "31.02.2024 10:00:00", reason: "impossible date"),
        Bad(text: "2024-03-01", reason: "no time of day"),
        Bad(text: "01.03.2024", reason: "no time of day"),
        Bad(text: "garbage"),
        Bad(text: "", reason: "empty"),
        Bad(text: "-"),
        Bad(text: "2024-03-01T00:15:00Z trailing", reason: "trailing"),
        Bad(text: "2024-03-01T00:15:00+03:00x", reason: "trailing"),
        Bad(text: "2024-03-01T00:15:00+03:00:00", reason: "trailing"),
        Bad(text: "2024-03-01 00:15:00 ", reason: "trailing"),
        Bad(text: " 2024-03-01 00:15:00"),
        Bad(text: "2024-03-01T00:15:00+19:00", reason: "impossible offset"),
        Bad(text: "2024-03-01T00:15:00+03:60", reason: "impossible offset"),
        Bad(text: "2024-03-01T00:15:00+3:00"),
        Bad(text: "2024-03-01T00:15:00+03:0"),
        Bad(text: "2024-03-01T00:15:00 MSK"),
        Bad(text: "2024-03-01T00:15:00.Z", reason: "empty fraction"),
        Bad(text: "2024-03-01T00:15:00.1234567890Z", reason: "more than 9"),
        Bad(text: "2024-3-1 00:15:00"),
        Bad(text: "2024-03-01T0:15:00Z"),
        // Seconds left out (Excel's habit): refused with the forms that are accepted.
        Bad(text: "2024-03-05 10:00", reason: "no seconds (accepted: 2024-03-05T10:00:00+03:00, 2024-03-05 10:00:00, 05.03.2024 10:00:00, Unix seconds; another layout needs timestamp_format in an import profile)"),
        Bad(text: "05.03.2024 10:00", reason: "no seconds (accepted:"),
        Bad(text: "2024-03-01T00:15Z", reason: "no seconds (accepted:"),
        Bad(text: "2024-03-01T00:15", reason: "no seconds (accepted:"),
        Bad(text: "2024-03-01T00:15+03:00", reason: "no seconds (accepted:"),
        Bad(text: "2024/03/01 00:15:00"),
        Bad(text: "01.03.24 00:15:00"),
        Bad(text: "1.3.2024 00:15:00"),
        Bad(text: "2024-03-01t00:15:00Z"),
        Bad(text: "1709251200.5"),
        Bad(text: "+1709251200"),
        Bad(text: "99999999999999999999", reason: "out of range"),
        Bad(text: "253402300800", reason: "out of range"),
        Bad(text: "２０２４-03-01 00:15:00"),
    ]

    @Test("impossible or unknown timestamps are rejected, never rolled over", arguments: rejected)
    func rejects(_ bad: Bad) {
        let error = #expect(throws: FieldError.self) { try TimestampParser.parse(bad.text) }
        if let reason = bad.reason {
            #expect(error?.message.contains(reason) == true, "message was \(error?.message ?? "-")")
        }
    }

    /// Every accepted instant has a Moscow date in years 1…9999 (issue 4: fuzzing found that
    /// `-122222222021` and `9999-12-31T23:59:59Z`, Moscow year 10000, crashed the run).
    @Test("the last second of Moscow 9999-12-31 is the latest time accepted; before Moscow year 1 nothing is")
    func unixRange() throws {
        #expect(try TimestampParser.parse("253402289999").seconds == 253_402_289_999)
        #expect(try TimestampParser.parse("9999-12-31T20:59:59Z").seconds == 253_402_289_999)
        #expect(try TimestampParser.parse("9999-12-31 23:59:59").seconds == 253_402_289_999)
        #expect(try TimestampParser.parse("0001-01-01 00:00:00").seconds == -62_135_607_600)
        #expect(try TimestampParser.parse("-62135607600").seconds == -62_135_607_600)
        for text in ["253402290000", "9999-12-31T23:59:59Z", "9999-12-31T21:00:00Z", "-62135607601", "-122222222021",
                     "0001-01-01T00:00:00+05:00", "01.01.0001 00:00:00+03:01"] {
            let error = #expect(throws: FieldError.self, "\(text)") { try TimestampParser.parse(text) }
            #expect(error?.message.contains("out of range") == true, "\(text): \(error?.message ?? "-")")
        }
    }

    @Test("offsets as --input-offset writes them", arguments: [
        ("+03:00", Int64(10_800)), ("+0300", 10_800), ("+03", 10_800), ("-05:00", -18_000), ("-0500", -18_000),
        ("Z", 0), ("+00:00", 0), ("-00:00", 0), ("+18:00", 64_800), ("+05:45", 20_700),
    ])
    func parsesOffsets(_ text: String, _ seconds: Int64) throws {
        #expect(try TimestampParser.parseOffset(text) == seconds)
    }

    @Test("bad offsets are rejected", arguments: ["", "03:00", "+3", "+3:00", "+19:00", "+03:60", "+03:00 ", " +03:00", "UTC", "MSK", "+03:00Z", "Z+03:00", "+", "+03:", "+03:000"])
    func rejectsOffsets(_ text: String) {
        #expect(throws: FieldError.self) { try TimestampParser.parseOffset(text) }
    }

    @Test("Moscow text keeps the input's fractional digits", arguments: [
        ("2024-03-31T20:59:59.750Z", "2024-03-31T23:59:59.750+03:00"),
        ("2024-03-31T20:59:59Z", "2024-03-31T23:59:59+03:00"),
        ("2024-03-31T21:00:00Z", "2024-04-01T00:00:00+03:00"),
        ("2024-03-31T20:59:59.5Z", "2024-03-31T23:59:59.5+03:00"),
        ("2024-03-31T20:59:59.050Z", "2024-03-31T23:59:59.050+03:00"),
        ("2024-03-31T20:59:59.000001Z", "2024-03-31T23:59:59.000001+03:00"),
        ("2024-03-31T20:59:59.123456789Z", "2024-03-31T23:59:59.123456789+03:00"),
        ("2024-03-31T20:59:59.000Z", "2024-03-31T23:59:59.000+03:00"),
        ("2024-03-01 00:15:00", "2024-03-01T00:15:00+03:00"),
        ("01.03.2024 00:15:00.25", "2024-03-01T00:15:00.25+03:00"),
        ("2024-02-28T23:30:00-01:00", "2024-02-29T03:30:00+03:00"),
        ("1709251200", "2024-03-01T03:00:00+03:00"),
        ("1969-12-31T20:00:00Z", "1969-12-31T23:00:00+03:00"),
    ])
    func moscowText(_ input: String, _ expected: String) throws {
        let instant = try TimestampParser.parse(input)
        #expect(MoscowTime.isoText(instant) == expected)
        // The text reads back as the same instant with the same digits.
        let again = try TimestampParser.parse(expected)
        #expect(again == instant)
        #expect(again.fractionDigits == instant.fractionDigits)
        #expect(MoscowTime.isoText(again) == expected)
    }

    @Test("the Moscow calendar day of an instant turns at 21:00Z")
    func moscowDay() throws {
        #expect(MoscowTime.date(of: try TimestampParser.parse("2024-03-31T20:59:59Z")) == CivilDate(year: 2024, month: 3, day: 31))
        #expect(MoscowTime.date(of: try TimestampParser.parse("2024-03-31T21:00:00Z")) == CivilDate(year: 2024, month: 4, day: 1))
    }

    @Test("every day of 1970…2100 written naive parses to Moscow midnight of that day")
    func everyDayRoundTrips() throws {
        var date = CivilDate(year: 1970, month: 1, day: 1)
        while date.year <= 2100 {
            let text = date.isoText + " 00:00:00"
            let instant = try TimestampParser.parse(text)
            #expect(instant == MoscowTime.midnight(date), "\(text)")
            let russian = pad(date.day, 2) + "." + pad(date.month, 2) + "." + pad(date.year, 4) + " 00:00:00"
            #expect(try TimestampParser.parse(russian) == instant, "\(russian)")
            date = date.adding(days: 1)
        }
    }
}

/// Zero-padded decimal (the library's own `pad` gave way to byte formatters).
fileprivate func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
