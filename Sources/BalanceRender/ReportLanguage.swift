import BalanceReport
import BalanceModel
import BalanceSupport
/// The language of a run's pages and e-mail: which `Templates/<lang>` folder is the default and
/// how HTML (and e-mail text) shows figures. CSV is the same in every language.
///
/// * `ru` (default): `−1 234,56 ₽` (no-break spaces, decimal comma, U+2212 minus), `01.03.2024 03:15`.
/// * `en`: `−RUB 1,234.56` (CLDR English with the ISO code for roubles, a no-break space after it;
///   `$1,234.56` and `€1,234.56` for USD and EUR), and ISO dates `2024-03-01 03:15`, which no
///   English reader takes for 3 January.
public enum ReportLanguage: String, Sendable, CaseIterable {
    case ru
    case en
}

/// English display forms. Like `Formatting`, amounts are rounded half away from zero to cents, and
/// one under half a cent is written exactly.
public enum EnglishFormatting {
    public static func amount(_ money: Money, currency: String) -> String {
        Formatting.string { appendAmount(money, currency: currency, to: &$0) }
    }

    public static func dateTime(_ instant: Instant) -> String {
        Formatting.string { appendDateTime(instant, to: &$0) }
    }

    public static func date(_ date: CivilDate) -> String { date.isoText }

    /// `2024-03-01 03:15`: the ISO day and the Moscow clock.
    public static func appendDateTime(_ instant: Instant, to out: inout [UInt8]) {
        let c = MoscowTime.components(of: instant)
        c.date.appendISO(to: &out)
        out.append(UInt8(ascii: " "))
        Formatting.appendClock(c.hour, c.minute, to: &out)
    }

    /// The prefix an amount starts with: `RUB ` (with a no-break space), `$`, `€`.
    static func currencyPrefix(_ currency: String) -> String {
        switch currency {
        case "USD": return "$"
        case "EUR": return "€"
        default: return currency + "\u{00A0}"
        }
    }

    public static func appendAmount(_ money: Money, currency: String, to out: inout [UInt8]) {
        let kopecks = money.roundedKopecks
        if kopecks == 0 && !money.isZero {
            // Under half a cent: the exact amount (`−RUB 0.004167`), never a silent `0.00`.
            if money.isNegative { out.append(contentsOf: [0xE2, 0x88, 0x92]) }
            out.append(contentsOf: currencyPrefix(currency).utf8)
            (money.isNegative ? -money : money).appendExact(decimalMark: UInt8(ascii: "."), to: &out)
            return
        }
        let magnitude = kopecks < 0 ? -kopecks : kopecks
        if kopecks < 0 { out.append(contentsOf: [0xE2, 0x88, 0x92]) }  // U+2212 minus sign
        out.append(contentsOf: currencyPrefix(currency).utf8)
        let digits = Array(String(magnitude / 100).utf8)
        for (offset, digit) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { out.append(UInt8(ascii: ",")) }
            out.append(digit)
        }
        out.append(UInt8(ascii: "."))
        let cents = Int(magnitude % 100)
        out.append(UInt8(ascii: "0") + UInt8(cents / 10))
        out.append(UInt8(ascii: "0") + UInt8(cents % 10))
    }
}
