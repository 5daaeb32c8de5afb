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

/// English display forms. Like `Formatting`, amounts are rounded half away from zero to cents.
public enum EnglishFormatting {
    public static func amount(_ money: Money, currency: String) -> String {
        var bytes: [UInt8] = []
        appendAmount(money, currency: currency, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func dateTime(_ instant: Instant) -> String {
        let c = MoscowTime.components(of: instant)
        return c.date.isoText + " " + twoDigits(c.hour) + ":" + twoDigits(c.minute)
    }

    static func twoDigits(_ value: Int) -> String { value < 10 ? "0" + String(value) : String(value) }

    public static func date(_ date: CivilDate) -> String { date.isoText }

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

/// Shows a scope's typed values in English: amounts, moments and days become English text before
/// the engine (whose HTML forms are Russian) sees them. Used for HTML and e-mail text only, never
/// for CSV; the Russian default goes straight to the engine and pays nothing for this.
struct EnglishDisplayScope: TemplateScope {
    let base: any TemplateScope
    let currency: String

    func value(_ name: String) -> TemplateValue? {
        base.value(name).map { EnglishDisplayScope.localize($0, currency) }
    }

    static func localize(_ value: TemplateValue, _ currency: String) -> TemplateValue {
        switch value {
        case .money(let money): return .text(EnglishFormatting.amount(money, currency: currency))
        case .instant(let instant): return .text(EnglishFormatting.dateTime(instant))
        case .date(let date): return .text(EnglishFormatting.date(date))
        case .rows(let count, let row):
            return .rows(count: count) { EnglishDisplayScope(base: row($0), currency: currency) }
        case .scope(let scope): return .scope(EnglishDisplayScope(base: scope, currency: currency))
        case .text, .flag: return value
        }
    }
}

extension ReportRenderer {
    /// The scope a template sees: as built for Russian, or with English figures for English pages.
    func display(_ scope: any TemplateScope, for template: Template, currency: String) -> any TemplateScope {
        guard templates.language == .en, template.contentType == .html else { return scope }
        return EnglishDisplayScope(base: scope, currency: currency)
    }
}
