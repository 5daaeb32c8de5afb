import BalanceReport
import BalanceModel
import BalanceSupport
/// How figures and moments are written in reports. Every writer appends UTF-8 bytes straight to
/// the output (no intermediate `String`): these run once per cell of million-row tables.
public enum Formatting {
    /// Exact amount for CSV: every digit the data has (at least two fractional), the dialect's mark, no grouping.
    public static func csvAmount(_ money: Money, dialect: CSVDialect) -> String {
        string { appendExact(money, decimalMark: dialect == .standard ? UInt8(ascii: ".") : UInt8(ascii: ","), to: &$0) }
    }

    /// Russian display form: rounded half away from zero to kopecks, no-break-space grouping,
    /// decimal comma, a real minus sign: `−1 234,56 ₽`; an amount under half a kopeck exactly: `−0,004167 ₽`.
    public static func russianAmount(_ money: Money, currency: String) -> String {
        string { appendRussian(money, currency: currency, to: &$0) }
    }

    /// `01.03.2024 03:15` in Moscow time.
    public static func russianDateTime(_ instant: Instant) -> String {
        string { appendRussianDateTime(instant, to: &$0) }
    }

    /// `01.03.2024`.
    public static func russianDate(_ date: CivilDate) -> String {
        string { appendRussianDate(date, to: &$0) }
    }

    public static func currencySign(_ currency: String) -> String {
        switch currency {
        case "RUB": return "₽"
        case "USD": return "$"
        case "EUR": return "€"
        default: return currency
        }
    }

    // MARK: Byte writers

    public static func appendExact(_ money: Money, decimalMark: UInt8, to out: inout [UInt8]) {
        money.appendExact(decimalMark: decimalMark, to: &out)
    }

    public static func appendRussian(_ money: Money, currency: String, to out: inout [UInt8]) {
        let kopecks = money.roundedKopecks
        if kopecks == 0 && !money.isZero {
            // Under half a kopeck: `0,00 ₽` would hide a charge that moves the balance, so the exact amount.
            appendUnderHalfKopeck(money, decimalMark: UInt8(ascii: ","), to: &out)
            out.append(contentsOf: [0xC2, 0xA0])
            out.append(contentsOf: currencySign(currency).utf8)
            return
        }
        let magnitude = kopecks < 0 ? -kopecks : kopecks
        if kopecks < 0 { out.append(contentsOf: [0xE2, 0x88, 0x92]) }  // U+2212 minus sign
        guard let small = Int64(exactly: magnitude) else {
            out.append(contentsOf: String(magnitude / 100).utf8)
            out.append(UInt8(ascii: ","))
            appendPadded(Int64(magnitude % 100), width: 2, to: &out)
            out.append(contentsOf: [0xC2, 0xA0])
            out.append(contentsOf: currencySign(currency).utf8)
            return
        }
        let whole = small / 100
        // Groups of three digits, separated by no-break spaces.
        var divisor: Int64 = 1
        while whole / divisor >= 1000 { divisor *= 1000 }
        appendPadded(whole / divisor, width: 1, to: &out)
        while divisor > 1 {
            divisor /= 1000
            out.append(contentsOf: [0xC2, 0xA0])
            appendPadded(whole / divisor % 1000, width: 3, to: &out)
        }
        out.append(UInt8(ascii: ","))
        appendPadded(small % 100, width: 2, to: &out)
        out.append(contentsOf: [0xC2, 0xA0])
        if currency == "RUB" {
            out.append(contentsOf: [0xE2, 0x82, 0xBD])  // ₽
        } else {
            out.append(contentsOf: currencySign(currency).utf8)
        }
    }

    /// A non-zero amount that rounds to zero kopecks, written exactly with a real minus sign:
    /// `−0,004167` (every fractional digit it has), so a display never shows a charge as nothing.
    static func appendUnderHalfKopeck(_ money: Money, decimalMark: UInt8, to out: inout [UInt8]) {
        if money.isNegative { out.append(contentsOf: [0xE2, 0x88, 0x92]) }  // U+2212 minus sign
        let magnitude = money.isNegative ? -money : money
        magnitude.appendExact(decimalMark: decimalMark, to: &out)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fff]+03:00`, with as many fractional digits as the input had.
    public static func appendISO(_ instant: Instant, to out: inout [UInt8]) {
        MoscowTime.appendISO(instant, to: &out)
    }

    public static func appendISODate(_ date: CivilDate, to out: inout [UInt8]) {
        date.appendISO(to: &out)
    }

    public static func appendRussianDate(_ date: CivilDate, to out: inout [UInt8]) {
        appendPadded(Int64(date.day), width: 2, to: &out)
        out.append(UInt8(ascii: "."))
        appendPadded(Int64(date.month), width: 2, to: &out)
        out.append(UInt8(ascii: "."))
        appendPadded(Int64(date.year), width: 4, to: &out)
    }

    public static func appendRussianDateTime(_ instant: Instant, to out: inout [UInt8]) {
        let c = MoscowTime.components(of: instant)
        appendRussianDate(c.date, to: &out)
        out.append(UInt8(ascii: " "))
        appendClock(c.hour, c.minute, to: &out)
    }

    static func appendClock(_ hour: Int, _ minute: Int, to out: inout [UInt8]) {
        appendPadded(Int64(hour), width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(Int64(minute), width: 2, to: &out)
    }

    @inline(__always)
    static func appendPadded(_ value: Int64, width: Int, to out: inout [UInt8]) {
        appendDecimal(value, width: width, to: &out)
    }

    static func string(_ write: (inout [UInt8]) -> Void) -> String {
        var bytes: [UInt8] = []
        write(&bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
