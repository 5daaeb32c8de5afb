import BalanceSupport
/// A moment in time: seconds since the Unix epoch plus nanoseconds, independent of any offset.
///
/// `fractionDigits` remembers how many fractional-second digits the input had, so outputs
/// can show `…T23:59:59.750+03:00` as written; it takes no part in comparison or equality.
public struct Instant: Comparable, Hashable, Sendable {
    public var seconds: Int64
    public var nanoseconds: Int32
    public var fractionDigits: Int8

    @inlinable public init(seconds: Int64, nanoseconds: Int32 = 0, fractionDigits: Int8 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
        self.fractionDigits = fractionDigits
    }

    @inlinable public static func < (a: Instant, b: Instant) -> Bool {
        a.seconds != b.seconds ? a.seconds < b.seconds : a.nanoseconds < b.nanoseconds
    }

    @inlinable public static func == (a: Instant, b: Instant) -> Bool {
        a.seconds == b.seconds && a.nanoseconds == b.nanoseconds
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(seconds)
        hasher.combine(nanoseconds)
    }

    public static let distantPast = Instant(seconds: .min)
    public static let distantFuture = Instant(seconds: .max)
}

/// A calendar day (proleptic Gregorian), used for Moscow days and period bounds.
public struct CivilDate: Comparable, Hashable, Sendable {
    public var year: Int
    public var month: Int
    public var day: Int

    @inlinable public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    @inlinable public static func < (a: CivilDate, b: CivilDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Whether the fields name a real day (`2024-02-30` does not).
    public var isValid: Bool {
        (1...9999).contains(year) && (1...12).contains(month)
            && day >= 1 && day <= CivilDate.daysInMonth(year: year, month: month)
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    @inlinable public var daysSinceEpoch: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    @inlinable public init(daysSinceEpoch days: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(year: Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), month: Int(m), day: Int(d))
    }

    public func adding(days: Int64) -> CivilDate { CivilDate(daysSinceEpoch: daysSinceEpoch + days) }

    /// `YYYY-MM-DD`.
    public var isoText: String {
        var bytes: [UInt8] = []
        appendISO(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    @inlinable public func appendISO(to out: inout [UInt8]) {
        appendDecimal(Int64(year), width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDecimal(Int64(month), width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDecimal(Int64(day), width: 2, to: &out)
    }
}

/// Moscow time: the fixed UTC+03:00 offset every report is shown in (no DST, no tz database).
public enum MoscowTime {
    public static let offsetSeconds: Int64 = 3 * 3600

    /// The Moscow calendar day an instant falls on.
    @inlinable public static func date(of instant: Instant) -> CivilDate {
        let local = instant.seconds + offsetSeconds
        return CivilDate(daysSinceEpoch: floorDiv(local, 86_400))
    }

    /// Moscow midnight at the start of a day.
    @inlinable public static func midnight(_ date: CivilDate) -> Instant {
        Instant(seconds: date.daysSinceEpoch * 86_400 - offsetSeconds)
    }

    /// Wall-clock fields of an instant in Moscow time.
    @inlinable public static func components(of instant: Instant) -> (date: CivilDate, hour: Int, minute: Int, second: Int) {
        let local = instant.seconds + offsetSeconds
        let days = floorDiv(local, 86_400)
        let secondOfDay = Int(local - days * 86_400)
        return (CivilDate(daysSinceEpoch: days), secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fff]+03:00`, with as many fractional digits as the input had.
    public static func isoText(_ instant: Instant) -> String {
        var bytes: [UInt8] = []
        appendISO(instant, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    @inlinable public static func appendISO(_ instant: Instant, to out: inout [UInt8]) {
        let c = components(of: instant)
        c.date.appendISO(to: &out)
        out.append(UInt8(ascii: "T"))
        appendDecimal(Int64(c.hour), width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDecimal(Int64(c.minute), width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDecimal(Int64(c.second), width: 2, to: &out)
        if instant.fractionDigits > 0 {
            var value = Int64(instant.nanoseconds)
            for _ in Int(instant.fractionDigits)..<9 { value /= 10 }
            out.append(UInt8(ascii: "."))
            appendDecimal(value, width: Int(instant.fractionDigits), to: &out)
        }
        out.append(contentsOf: "+03:00".utf8)
    }

    @usableFromInline static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

extension CivilDate: CustomStringConvertible {
    /// `YYYY-MM-DD`.
    public var description: String { isoText }

    /// `YYYY-MM-DD` with real range checks, or `nil`.
    public static func parse(_ text: String) -> CivilDate? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else { return nil }
        let date = CivilDate(year: year, month: month, day: day)
        return date.isValid ? date : nil
    }
}
