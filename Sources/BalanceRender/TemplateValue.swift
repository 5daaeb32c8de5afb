import BalanceReport
import BalanceModel
import BalanceSupport

/// A template error: the file name, the line and what is wrong.
public struct TemplateError: Error, Equatable, Sendable, CustomStringConvertible {
    public var template: String
    public var line: Int
    public var message: String
    public var description: String { "\(template):\(line): \(message)" }
}

/// What a name in a template stands for.
public enum TemplateValue {
    /// Text, escaped for the template's content type when written.
    case text(String)
    /// An amount: exact with the dialect's decimal mark in CSV, rounded to kopecks in HTML.
    case money(Money)
    /// A daily rate: exact in CSV; in HTML rounded to kopecks like an amount, and a positive rate
    /// under half a kopeck is "less than 0,01 ₽" (a person reads a rate, not twelve digits).
    case rate(Money)
    /// A moment: `YYYY-MM-DDTHH:MM:SS+03:00` in CSV, `01.03.2024 03:15` in HTML (Moscow time).
    case instant(Instant)
    /// A moment a spreadsheet should read as a date-time (`state_since`): as `instant`, except in the
    /// excel-ru CSV dialect, where it is `DD.MM.YYYY HH:MM:SS`, the form Russian Excel reads as a
    /// date-time (ISO text stays text there).
    case spreadsheetInstant(Instant)
    /// A Moscow calendar day: `YYYY-MM-DD` in CSV, `01.03.2024` in HTML.
    case date(CivilDate)
    /// A condition: `{{#name}}` renders its block once when true, `{{^name}}` when false.
    case flag(Bool)
    /// Rows made on demand, so a million-row table is never held as scopes.
    case rows(count: Int, row: (Int) -> any TemplateScope)
    /// Rows whose names are resolved once per table instead of once per cell: the large tables.
    case table(any TemplateTable)
    /// A nested scope.
    case scope(any TemplateScope)
}

/// Something a template can look names up in.
public protocol TemplateScope {
    /// The value of `name`, or `nil` when this scope does not define it (the enclosing scope is asked next).
    func value(_ name: String) -> TemplateValue?
}

/// A scope whose amounts are in a currency of their own (a run of several currencies, SPEC §2.1):
/// the amounts under it are shown with its sign; `nil` keeps the enclosing one.
public protocol CurrencyScope: TemplateScope {
    var currency: String? { get }
}

/// A table whose rows each have a currency of their own (`CurrencyScope`, row by row).
public protocol CurrencyRows: TemplateTable {
    /// Whether rows have currencies of their own; `false` spares a call per row of a large table.
    var hasRowCurrencies: Bool { get }
    func currency(row: Int) -> String?
}

/// Rows of one table, addressed by field numbers that a template resolves once per section.
///
/// A million-row section then costs an array index and a switch per cell, not a name search
/// through the scope stack.
public protocol TemplateTable: AnyObject {
    var count: Int { get }
    /// The number of the field `name` stands for, or `nil` when the rows do not define it
    /// (the enclosing scopes are asked next, as for any scope).
    func field(_ name: String) -> Int?
    /// The value of field `field` in row `row`.
    func value(row: Int, field: Int) -> TemplateValue
}

/// How text from the data is made safe for the document it lands in.
public enum ContentType: Sendable, Equatable {
    case html
    case csv(CSVDialect)
}
