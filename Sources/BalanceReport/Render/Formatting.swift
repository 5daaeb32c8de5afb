/// How figures and moments are written in reports.
public enum Formatting {
    /// Exact amount for CSV: every digit the data has (at least two fractional), the dialect's mark, no grouping.
    public static func csvAmount(_ money: Money, dialect: CSVDialect) -> String {
        money.exactText(decimalMark: dialect.decimalMark)
    }

    /// Russian display form: rounded half away from zero to kopecks, no-break-space grouping,
    /// decimal comma, a real minus sign: `−1 234,56 ₽`.
    public static func russianAmount(_ money: Money, currency: String) -> String {
        let kopecks = money.roundedKopecks
        let magnitude = kopecks < 0 ? -kopecks : kopecks
        let whole = String(magnitude / 100)
        var grouped = ""
        for (offset, character) in whole.enumerated() {
            if offset > 0 && (whole.count - offset) % 3 == 0 { grouped.append("\u{00A0}") }
            grouped.append(character)
        }
        let fraction = pad(Int(magnitude % 100), 2)
        return (kopecks < 0 ? "\u{2212}" : "") + grouped + "," + fraction + "\u{00A0}" + currencySign(currency)
    }

    public static func currencySign(_ currency: String) -> String {
        switch currency {
        case "RUB": return "₽"
        case "USD": return "$"
        case "EUR": return "€"
        default: return currency
        }
    }

    /// `01.03.2024 03:15` in Moscow time.
    public static func russianDateTime(_ instant: Instant) -> String {
        let c = MoscowTime.components(of: instant)
        return russianDate(c.date) + " " + pad(c.hour, 2) + ":" + pad(c.minute, 2)
    }

    /// `01.03.2024`.
    public static func russianDate(_ date: CivilDate) -> String {
        pad(date.day, 2) + "." + pad(date.month, 2) + "." + pad(date.year, 4)
    }
}
