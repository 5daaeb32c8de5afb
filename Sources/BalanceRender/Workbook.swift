internal import CLibXLSXWriter
import BalanceReport
import BalanceModel
import BalanceSupport
import Glibc

/// A cell of a workbook, typed as a spreadsheet should hold it.
enum WorkbookCell {
    /// A text cell (never read as a formula or a number: no guard apostrophe is needed).
    case text(String)
    /// An amount, written as a number of kopecks (cents) / 100 with a two-decimal number format.
    case money(Money)
    /// A moment, as a date-time number in Moscow time.
    case instant(Instant)
    /// A Moscow calendar day, as a date number.
    case date(CivilDate)
    /// A whole number (days), with a whole-number format.
    case count(Int64)
    /// Nothing (an empty CSV field).
    case empty
}

/// One table of a workbook: its header and its typed cells, read on demand.
struct WorkbookTable {
    enum Kind { case text, money, instant, date, count }

    var sheet: String
    var headers: [String]
    var kinds: [Kind]
    var rows: Int
    /// The cell at (row, column), rows from 0 not counting the header.
    var cell: (Int, Int) -> WorkbookCell
}

/// XLSX workbooks written with libxlsxwriter: numbers as numbers, moments as dates, text as text,
/// a frozen header row with a filter, column widths fitted to the content.
///
/// A spreadsheet cell is an IEEE double (about 15 significant digits), so an amount is written as
/// its kopecks rounded half away from zero, divided by 100: exact up to 2^53 kopecks (about 90
/// trillion roubles). The exact value, with every fractional digit, stays in the CSV.
///
/// The bytes depend on the data and `created` only (libxlsxwriter dates its zip entries 1980-01-01
/// and takes the document's creation time from `created`), so two runs give identical files.
enum Workbook {
    /// A state as the Russian pages say it (`активен`), for the Russian workbook's state column.
    static func russianState(_ state: ClientState) -> String {
        switch state {
        case .invited: return "приглашён"
        case .active: return "активен"
        case .blocked: return "заблокирован"
        case .removed: return "отключён"
        }
    }

    /// Rows per sheet, the header included (Excel's limit); longer tables go on to further sheets.
    static let maxRows = 1_048_576
    /// Characters a cell holds (Excel's limit); a longer text is cut and ends in `…`.
    static let maxText = 32_767
    /// 1980-01-01T00:00:00Z, the earliest creation time written.
    static let earliestCreated: Int64 = 315_532_800

    static func bytes(_ table: WorkbookTable, language: ReportLanguage, created: Instant,
                      maxRows: Int = Workbook.maxRows) throws(Diagnostic) -> [UInt8] {
        let folder = try temporaryFolder()
        let path = folder + "/workbook.xlsx"
        defer {
            unlink(path)
            rmdir(folder)
        }
        // Constant memory: each row goes to disk as it is written, so a million-row table does not
        // hold a million cells (text is then stored inline, not as shared strings).
        var options = lxw_workbook_options(constant_memory: 1, tmpdir: nil, use_zip64: 0)
        guard let book = workbook_new_opt(path, &options) else {
            throw Diagnostic("cannot create the workbook \(table.sheet).xlsx (libxlsxwriter)")
        }
        var properties = lxw_doc_properties()
        // docProps/core.xml wants a four-digit year (openpyxl refuses `1-01-31`): a period before
        // 1980 (the zip entries' date) is stamped 1980-01-01.
        properties.created = time_t(max(created.seconds, Workbook.earliestCreated))
        workbook_set_properties(book, &properties)

        let header = workbook_add_format(book)
        format_set_bold(header)
        format_set_bottom(header, UInt8(LXW_BORDER_THIN.rawValue))
        let money = workbook_add_format(book)
        format_set_num_format(money, "#,##0.00")
        let instant = workbook_add_format(book)
        format_set_num_format(instant, language == .ru ? "dd.mm.yyyy hh:mm:ss" : "yyyy-mm-dd hh:mm:ss")
        let day = workbook_add_format(book)
        format_set_num_format(day, language == .ru ? "dd.mm.yyyy" : "yyyy-mm-dd")
        let whole = workbook_add_format(book)
        format_set_num_format(whole, "0")

        let widths = columnWidths(table)
        var failure: Diagnostic? = nil
        func check(_ result: lxw_error, _ what: @autoclosure () -> String) {
            if result != LXW_NO_ERROR && failure == nil {
                failure = Diagnostic("\(table.sheet).xlsx: \(what()): \(String(cString: lxw_strerror(result)))")
            }
        }
        let perSheet = maxRows - 1
        let sheets = max(1, (table.rows + perSheet - 1) / perSheet)
        for sheetNumber in 0..<sheets {
            let name = sheetNumber == 0 ? table.sheet : "\(table.sheet) \(sheetNumber + 1)"
            guard let sheet = workbook_add_worksheet(book, name) else {
                check(LXW_ERROR_MEMORY_MALLOC_FAILED, "sheet \(name)")
                break
            }
            for (column, width) in widths.enumerated() {
                check(worksheet_set_column(sheet, lxw_col_t(column), lxw_col_t(column), width, nil), "column width")
            }
            worksheet_freeze_panes(sheet, 1, 0)
            for (column, text) in table.headers.enumerated() {
                check(worksheet_write_string(sheet, 0, lxw_col_t(column), cellText(text), header), "header")
            }
            let first = sheetNumber * perSheet
            let last = min(table.rows, first + perSheet)
            for row in first..<last {
                let target = lxw_row_t(row - first + 1)
                for column in table.headers.indices {
                    let at = lxw_col_t(column)
                    switch table.cell(row, column) {
                    case .empty:
                        continue
                    case .text(let text):
                        check(worksheet_write_string(sheet, target, at, cellText(text), nil), "row \(row + 2)")
                    case .money(let amount):
                        check(worksheet_write_number(sheet, target, at, number(amount), money), "row \(row + 2)")
                    case .instant(let moment):
                        var value = dateTime(moment)
                        check(worksheet_write_datetime(sheet, target, at, &value, instant), "row \(row + 2)")
                    case .date(let date):
                        var value = lxw_datetime(year: Int32(date.year), month: Int32(date.month), day: Int32(date.day),
                                                 hour: 0, min: 0, sec: 0)
                        check(worksheet_write_datetime(sheet, target, at, &value, day), "row \(row + 2)")
                    case .count(let value):
                        // A double holds every whole number up to 2^53 exactly; a runway clamped at
                        // Int64.max (a huge balance at a pico-unit a week) is shown as that limit.
                        check(worksheet_write_number(sheet, target, at, Double(min(value, 1 << 53)), whole), "row \(row + 2)")
                    }
                }
            }
            check(worksheet_autofilter(sheet, 0, 0, lxw_row_t(last - first), lxw_col_t(table.headers.count - 1)), "filter")
        }
        let closed = workbook_close(book)
        if let failure { throw failure }
        guard closed == LXW_NO_ERROR else {
            throw Diagnostic("\(table.sheet).xlsx: \(String(cString: lxw_strerror(closed)))")
        }
        return try readFile(path)
    }

    /// Kopecks (cents) rounded half away from zero, as the number a cell holds.
    static func number(_ amount: Money) -> Double {
        Double(amount.roundedKopecks) / 100
    }

    /// The Moscow wall-clock fields of a moment, with its fraction of a second.
    static func dateTime(_ instant: Instant) -> lxw_datetime {
        let c = MoscowTime.components(of: instant)
        return lxw_datetime(year: Int32(c.date.year), month: Int32(c.date.month), day: Int32(c.date.day),
                            hour: Int32(c.hour), min: Int32(c.minute),
                            sec: Double(c.second) + Double(instant.nanoseconds) / 1_000_000_000)
    }

    /// Text as a cell must carry it. libxlsxwriter writes control characters as `_xHHHH_`, which
    /// spreadsheets read back as the character; a literal `_xHHHH_` in the data would then be read
    /// as an escape too, so its underscore is escaped (`_x005F_`), and NUL (which would end the C
    /// string) is written as its escape. Over `maxText` characters the text is cut and ends in `…`.
    static func cellText(_ text: String) -> String {
        var result = text
        if result.utf8.contains(where: { $0 == UInt8(ascii: "_") || $0 == 0 }) {
            var escaped = ""
            var scalars = Array(result.unicodeScalars)[...]
            while let scalar = scalars.first {
                if scalar == "\0" {
                    escaped += "_x0000_"
                } else if scalar == "_", isEscape(scalars) {
                    escaped += "_x005F_"
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
                scalars = scalars.dropFirst()
            }
            result = escaped
        }
        // Excel counts UTF-16 units: an emoji is two.
        if result.utf16.count > maxText {
            var cut = String.UnicodeScalarView()
            var units = 0
            for scalar in result.unicodeScalars {
                units += scalar.utf16.count
                if units > maxText - 1 { break }
                cut.append(scalar)
            }
            result = String(cut) + "…"
        }
        return result
    }

    /// Whether `scalars` starts with `_xHHHH_`.
    static func isEscape(_ scalars: ArraySlice<Unicode.Scalar>) -> Bool {
        guard scalars.count >= 7 else { return false }
        let s = Array(scalars.prefix(7))
        guard s[0] == "_", s[1] == "x" || s[1] == "X", s[6] == "_" else { return false }
        return s[2...5].allSatisfy { $0.properties.isASCIIHexDigit }
    }

    /// Widths in characters: the longest text of each column (at most 60), numbers and dates by their format.
    static func columnWidths(_ table: WorkbookTable) -> [Double] {
        table.headers.indices.map { column in
            var width = table.headers[column].count + 2
            switch table.kinds[column] {
            case .instant: width = max(width, 20)
            case .date: width = max(width, 11)
            case .count: width = max(width, 8)
            case .money, .text:
                for row in 0..<table.rows {
                    switch table.cell(row, column) {
                    case .text(let text): width = max(width, min(60, text.count + 1))
                    case .money(let amount):
                        // digits, group separators, decimal mark, sign
                        let digits = String(amount.roundedKopecks.magnitude).count
                        width = max(width, digits + digits / 3 + 3)
                    default: break
                    }
                    if width >= 60 { break }
                }
            }
            return Double(width)
        }
    }

    static func temporaryFolder() throws(Diagnostic) -> String {
        var base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        if base.isEmpty { base = "/tmp" }
        var template = Array((base + "/balance-report-xlsx-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw Diagnostic("cannot create a temporary folder in \(base) for a workbook: \(FileSystem.lastError)")
        }
        return String(cString: made)
    }

    static func readFile(_ path: String) throws(Diagnostic) -> [UInt8] {
        do { return try FileSystem.readAll(path) } catch { throw Diagnostic("cannot read back the workbook: \(FileSystem.lastError)") }
    }
}

/// The columns of `P/snapshot.xlsx`: the fields of `snapshot.csv`, in its order, each with its
/// header and its cell type. Named once here, not by position.
enum SnapshotColumn: CaseIterable {
    case clientID, name, email, phone, state, stateSince
    case opening, topups, charges, refunds, unattachedChange, closing
    case spendRateDaily, runwayDays
    /// Only in a run of several currencies (SPEC §4: every money row says its currency).
    case currency

    /// The columns of a run: `currency` last, and only when the run holds several.
    static func of(_ report: RunReport) -> [SnapshotColumn] {
        allCases.filter { $0 != .currency || report.isMultiCurrency }
    }

    func header(russian ru: Bool) -> String {
        switch self {
        case .clientID: return ru ? "ID клиента" : "Client ID"
        case .name: return ru ? "Название" : "Name"
        case .email: return "E-mail"
        case .phone: return ru ? "Телефон" : "Phone"
        case .state: return ru ? "Состояние" : "State"
        case .stateSince: return ru ? "Состояние с" : "State since"
        case .opening: return ru ? "Баланс на начало" : "Opening balance"
        case .topups: return ru ? "Пополнения" : "Top-ups"
        case .charges: return ru ? "Списания" : "Charges"
        case .refunds: return ru ? "Возвраты" : "Refunds"
        case .unattachedChange: return ru ? "Вне подключения" : "Change while not attached"
        case .closing: return ru ? "Баланс на конец" : "Closing balance"
        case .spendRateDaily: return ru ? "Расход в день" : "Spend a day"
        case .runwayDays: return ru ? "Дней до нуля" : "Days left"
        case .currency: return ru ? "Валюта" : "Currency"
        }
    }

    var kind: WorkbookTable.Kind {
        switch self {
        case .clientID, .name, .email, .phone, .state, .currency: return .text
        case .stateSince: return .instant
        case .opening, .topups, .charges, .refunds, .unattachedChange, .closing, .spendRateDaily: return .money
        case .runwayDays: return .count
        }
    }

    func cell(_ client: ClientReport, russian ru: Bool) -> WorkbookCell {
        switch self {
        case .clientID: return .text(client.client.id)
        case .currency: return client.movement == nil ? .empty : .text(client.currency)
        case .name: return .text(client.client.name)
        case .email: return .text(client.client.email)
        case .phone: return .text(client.client.phone)
        case .state: return .text(ru ? Workbook.russianState(client.state) : client.state.rawValue)
        case .stateSince: return client.stateSince.map { .instant($0) } ?? .empty
        // The runway, as snapshot.csv has it: empty where no days are left to tell. A rate under
        // half a kopeck is not shown as 0,00, nor a runway of millions of days as a number: what a
        // person can use, as on the pages (the CSV keeps both exactly).
        case .spendRateDaily:
            guard let runway = client.runway else { return .empty }
            if runway.dailyRate.picos > 0 && runway.dailyRate.roundedKopecks == 0 { return .text(ru ? "< 0,01" : "< 0.01") }
            return .money(runway.dailyRate)
        case .runwayDays:
            guard let runway = client.runway, let days = runway.daysLeft else { return .empty }
            return runway.lastsMoreThanAYear ? .text(ru ? "больше года" : "more than a year") : .count(days)
        case .opening, .topups, .charges, .refunds, .unattachedChange, .closing:
            // No visible interval: the money is not the partner's, the cells stay empty.
            guard let m = client.movement else { return .empty }
            switch self {
            case .opening: return .money(m.opening)
            case .topups: return .money(m.topups)
            case .charges: return .money(m.charges)
            case .refunds: return .money(m.refunds)
            case .unattachedChange: return .money(m.unattachedChange)
            default: return .money(m.closing)
            }
        }
    }
}

extension ReportRenderer {
    /// The workbooks of a partner (`P/snapshot.xlsx`, `P/services.xlsx`, `P/daily.xlsx`): the
    /// columns and rows of the CSV files of the same name, headed in the run's language. Per-client
    /// detail is left to the CSV: a client's detail can pass a sheet's million rows, and a
    /// workbook per client would multiply the files of a run by two.
    public func workbooks(_ partner: PartnerReport, _ report: RunReport) throws(Diagnostic) -> [(name: String, bytes: [UInt8])] {
        let created = report.period.interval.end
        let ru = templates.language == .ru
        let clients = partner.clients
        let columns = SnapshotColumn.of(report)
        let several = report.isMultiCurrency
        let snapshot = WorkbookTable(sheet: "snapshot", headers: columns.map { $0.header(russian: ru) }, kinds: columns.map(\.kind),
                                     rows: clients.count) { row, column in columns[column].cell(clients[row], russian: ru) }
        // The services and daily sheets: the CSV's fields (`ServiceField`, `DailyField`), by name.
        let serviceFields: [ServiceField] = [.clientID, .service, .charged, .refunded, .net] + (several ? [.currency] : [])
        let servicePositions = clients.indices.flatMap { c in clients[c].services.indices.map { (c, $0) } }
        let services = WorkbookTable(
            sheet: "services",
            headers: (ru ? ["ID клиента", "Сервис", "Списано", "Возвращено", "Расход"]
                         : ["Client ID", "Service", "Charged", "Refunded", "Spend"]) + (several ? [ru ? "Валюта" : "Currency"] : []),
            kinds: [.text, .text, .money, .money, .money] + (several ? [.text] : []),
            rows: servicePositions.count) { row, column in
                let (c, s) = servicePositions[row]
                let spend = clients[c].services[s]
                switch serviceFields[column] {
                case .clientID: return .text(clients[c].client.id)
                case .currency: return .text(clients[c].currency)
                case .service: return .text(spend.service)
                case .charged: return .money(spend.charged)
                case .refunded: return .money(spend.refunded)
                case .net, .barPercent: return .money(spend.net)
                }
            }
        let dailyFields: [DailyField] = [.clientID, .date, .service, .net] + (several ? [.currency] : [])
        let dailyPositions = clients.indices.flatMap { c in clients[c].daily.indices.map { (c, $0) } }
        let daily = WorkbookTable(
            sheet: "daily",
            headers: (ru ? ["ID клиента", "Дата", "Сервис", "Расход"] : ["Client ID", "Date", "Service", "Spend"])
                + (several ? [ru ? "Валюта" : "Currency"] : []),
            kinds: [.text, .date, .text, .money] + (several ? [.text] : []),
            rows: dailyPositions.count) { row, column in
                let (c, d) = dailyPositions[row]
                let day = clients[c].daily[d]
                switch dailyFields[column] {
                case .clientID: return .text(clients[c].client.id)
                case .currency: return .text(clients[c].currency)
                case .date: return .date(day.date)
                case .service: return .text(day.service)
                case .net: return .money(day.net)
                }
            }
        return [
            (OutputFiles.snapshotWorkbook, try Workbook.bytes(snapshot, language: templates.language, created: created)),
            (OutputFiles.servicesWorkbook, try Workbook.bytes(services, language: templates.language, created: created)),
            (OutputFiles.dailyWorkbook, try Workbook.bytes(daily, language: templates.language, created: created)),
        ]
    }
}
