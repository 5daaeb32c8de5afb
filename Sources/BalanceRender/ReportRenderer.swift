import BalanceReport
import BalanceModel
import BalanceSupport
import Dispatch
import Synchronization

/// A scope answered by a closure: the views below are small switch statements over names.
struct Scope: CurrencyScope {
    let lookup: (String) -> TemplateValue?
    /// The currency of the amounts under this scope; `nil`: the enclosing scope's.
    var currency: String? = nil
    init(currency: String? = nil, _ lookup: @escaping (String) -> TemplateValue?) {
        self.lookup = lookup
        self.currency = currency
    }
    func value(_ name: String) -> TemplateValue? { lookup(name) }
}

/// The templates of one run, loaded and compiled once.
public struct TemplateSet: Sendable {
    public var partnerIndex: Template
    public var partnerSnapshotHTML: Template
    public var clientHTML: Template
    public var clientCSV: Template
    public var servicesCSV: Template
    public var dailyCSV: Template
    public var snapshotCSV: Template
    public var rejectsCSV: Template
    /// `unknown-clients.csv`, written when transactions of the period name clients no record names.
    public var unknownClientsCSV: Template
    /// `changes.csv`, written only with a comparison (`--compare previous`, `--compare-with`).
    public var changesCSV: Template
    /// `invoices.csv`, written only for a partner whose rows name invoices (`InvoicesFile.swift`).
    public var invoicesCSV: Template
    /// How the HTML pages show figures (`Templates/<language>` is the default folder).
    public var language: ReportLanguage

    /// File names inside a templates folder.
    public static let fileNames = [
        "index.html.mustache", "snapshot.html.mustache", "client.html.mustache", "client.csv.mustache",
        "services.csv.mustache", "daily.csv.mustache", "snapshot.csv.mustache", "rejects.csv.mustache",
        "changes.csv.mustache", "unknown-clients.csv.mustache", "invoices.csv.mustache",
    ]

    /// Compiles the templates from `read(fileName) -> source`.
    public init(dialect: CSVDialect, language: ReportLanguage = .ru, read: (String) throws -> String) throws {
        self.language = language
        func load(_ file: String) throws -> Template {
            try Template(name: file, source: try read(file),
                         contentType: file.contains(".html.") ? .html : .csv(dialect))
        }
        partnerIndex = try load("index.html.mustache")
        partnerSnapshotHTML = try load("snapshot.html.mustache")
        clientHTML = try load("client.html.mustache")
        clientCSV = try load("client.csv.mustache")
        servicesCSV = try load("services.csv.mustache")
        dailyCSV = try load("daily.csv.mustache")
        snapshotCSV = try load("snapshot.csv.mustache")
        rejectsCSV = try load("rejects.csv.mustache")
        changesCSV = try load("changes.csv.mustache")
        unknownClientsCSV = try load("unknown-clients.csv.mustache")
        invoicesCSV = try load("invoices.csv.mustache")
    }
}

/// One reusable scope per table: moving it to the next row allocates nothing.
final class RowCursor<Source>: CurrencyScope {
    var index = 0
    let source: Source
    let lookup: (Source, Int, String) -> TemplateValue?
    let currencyOf: ((Source, Int) -> String?)?

    init(_ source: Source, currency: ((Source, Int) -> String?)? = nil, _ lookup: @escaping (Source, Int, String) -> TemplateValue?) {
        self.source = source
        self.lookup = lookup
        self.currencyOf = currency
    }

    func value(_ name: String) -> TemplateValue? { lookup(source, index, name) }
    var currency: String? { currencyOf?(source, index) }
}

/// A table section over `count` rows of `source`; `currency`: each row's currency, in a run of several.
func table<Source>(_ source: Source, count: Int, currency: ((Source, Int) -> String?)? = nil,
                   _ lookup: @escaping (Source, Int, String) -> TemplateValue?) -> TemplateValue {
    let cursor = RowCursor(source, currency: currency, lookup)
    return .rows(count: count) { index in
        cursor.index = index
        return cursor
    }
}

/// A large table whose fields are the cases of `Field`: the template resolves each name to a case
/// once per section, and each cell is a switch over the case.
final class FieldTable<Source, Field: RawRepresentable & CaseIterable>: CurrencyRows where Field.RawValue == String {
    let source: Source
    let count: Int
    let value: (Source, Int, Field) -> TemplateValue
    /// The fields these rows offer; a name outside them is asked of the enclosing scopes.
    let fields: [Field]
    /// Each row's currency (`nil`: the enclosing scope's).
    let currencyOf: ((Source, Int) -> String?)?

    init(_ source: Source, count: Int, fields: [Field] = Array(Field.allCases), currency: ((Source, Int) -> String?)? = nil,
         _ value: @escaping (Source, Int, Field) -> TemplateValue) {
        self.source = source
        self.count = count
        self.fields = fields
        self.value = value
        self.currencyOf = currency
    }

    func field(_ name: String) -> Int? { fields.firstIndex { $0.rawValue == name } }
    func value(row: Int, field: Int) -> TemplateValue { value(source, row, fields[field]) }
    var hasRowCurrencies: Bool { currencyOf != nil }
    func currency(row: Int) -> String? { currencyOf?(source, row) }
}

/// Render: turns a `RunReport` into files through the templates, handing each to `emit`.
public struct ReportRenderer: Sendable {
    public let templates: TemplateSet
    public let dialect: CSVDialect

    public init(templates: TemplateSet, dialect: CSVDialect) {
        self.templates = templates
        self.dialect = dialect
    }

    /// The pages of the output folder link to each other with relative links (`in_folder`); the
    /// e-mail's HTML body, read away from the folder, has none and names its attachments
    /// (`attached_files`): set for rendering that body only.
    var emailAttachmentNames: [String]? = nil

    /// The names every page's scope has for the links of the folder.
    func folderValue(_ name: String) -> TemplateValue? {
        switch name {
        case "in_folder": return .flag(emailAttachmentNames == nil)
        case "attached_files": return .text((emailAttachmentNames ?? []).joined(separator: ", "))
        default: return nil
        }
    }

    /// Whether a partner's e-mail carries the XLSX workbooks instead of the CSV files: in Russian,
    /// where a finance reader opens them in Excel or LibreOffice with a Russian locale (a standard CSV
    /// comes in there as text). English messages keep the exact CSV files.
    public var attachesXLSX: Bool { templates.language == .ru }

    /// Renders every report of every partner (SPEC §4), with `xlsx` its workbooks too
    /// (`Workbook.swift`), the rejects list when asked for, and `summary.json`, handing each file
    /// to `emit`. Pages are rendered on `workers` threads; every file's bytes are the same whatever
    /// the number of workers.
    public func render(_ report: RunReport, includeRejects: Bool, xlsx: Bool = false, workers: Int = 1,
                       emit: @Sendable (String, [UInt8]) throws -> Void) throws {
        try ReportRenderer.checkFileNames(report)
        enum Job { case partnerPages(Int), client(Int, Range<Int>) }
        let jobs: [Job] = report.partners.indices.flatMap { partner in
            [Job.partnerPages(partner)] + ReportRenderer.clientGroups(report.partners[partner]).map { Job.client(partner, $0) }
        }
        let next = Atomic<Int>(0)
        let firstError = Mutex<(any Error)?>(nil)
        DispatchQueue.concurrentPerform(iterations: max(1, min(workers, jobs.count))) { _ in
            // One output buffer per worker, emptied and reused for every file: a fresh multi-MB
            // buffer per file would cost page faults and zeroed pages each time.
            var buffer: [UInt8] = []
            while true {
                let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < jobs.count, firstError.withLock({ $0 == nil }) else { return }
                do {
                    switch jobs[index] {
                    case .partnerPages(let p):
                        let partner = report.partners[p]
                        let folder = FileNames.safeName(for: partner.partnerID)
                        for (file, template) in [(OutputFiles.index, templates.partnerIndex), (OutputFiles.snapshotPage, templates.partnerSnapshotHTML),
                                                 (OutputFiles.services, templates.servicesCSV), (OutputFiles.daily, templates.dailyCSV),
                                                 (OutputFiles.snapshot, templates.snapshotCSV)] {
                            try page(template, partner, report, into: &buffer)
                            try emit("\(folder)/\(file)", buffer)
                        }
                        if partner.hasComparison {
                            try page(templates.changesCSV, partner, report, into: &buffer)
                            try emit("\(folder)/\(OutputFiles.changes)", buffer)
                        }
                        if xlsx {
                            for (file, bytes) in try workbooks(partner, report) { try emit("\(folder)/\(file)", bytes) }
                        }
                        if let invoices = report.invoices.invoices(of: partner.partnerID) {
                            try emit("\(folder)/\(OutputFiles.invoices)", try invoicesFile(invoices))
                        }
                    case .client(let p, let entries):
                        let partner = report.partners[p]
                        let client = partner.clients[entries]
                        let path = "\(FileNames.safeName(for: partner.partnerID))/\(OutputFiles.clientsFolder)/\(FileNames.safeName(for: client.first!.client.id))"
                        try clientPage(templates.clientHTML, client, partner, report, into: &buffer)
                        try emit(path + ".html", buffer)
                        try clientPage(templates.clientCSV, client, partner, report, into: &buffer)
                        try emit(path + ".csv", buffer)
                    }
                } catch {
                    firstError.withLock { if $0 == nil { $0 = error } }
                    return
                }
            }
        }
        if let error = firstError.withLock({ $0 }) { throw error }
        if includeRejects {
            try emit(OutputFiles.rejects, try rejectsFile(report))
        }
        if !report.summary.unknownClients.isEmpty {
            try emit(OutputFiles.unknownClients, try unknownClientsFile(report.summary, currencies: report.currencies))
        }
        try emit(OutputFiles.summary, SummaryJSON.encode(report))
    }

    /// A partner's clients as runs of entries of one client id (one entry per currency): a client's
    /// page and detail file show all of its currencies.
    static func clientGroups(_ partner: PartnerReport) -> [Range<Int>] {
        var groups: [Range<Int>] = []
        var start = 0
        for index in partner.clients.indices.dropFirst() where !partner.clients[index].client.id.bytesEqual(partner.clients[start].client.id) {
            groups.append(start..<index)
            start = index
        }
        if !partner.clients.isEmpty { groups.append(start..<partner.clients.count) }
        return groups
    }

    /// `unknown-clients.csv`: one row per client id and currency, with the first `file:line`.
    package func unknownClientsFile(_ summary: RunSummary, currencies: [String]) throws -> [UInt8] {
        try runTable(templates.unknownClientsCSV, section: "unknown_clients", summary.unknownClients, currencies: currencies) { entry, name in
            switch name {
            case "client_id": return .text(entry.clientID)
            case "currency": return .text(entry.currency)
            case "transactions": return .text(String(entry.transactions))
            case "amount": return .money(entry.amount)
            case "first_file": return .text(summary.path(of: entry.first))
            case "first_line": return .text(String(entry.first.line))
            default: return nil
            }
        }
    }

    /// A CSV file of the run itself (`rejects.csv`, `unknown-clients.csv`): one table section over
    /// `items`, whose fields `value` names; `several_currencies` as for every file of the run.
    func runTable<Item>(_ template: Template, section: String, _ items: [Item], currencies: [String],
                        value: @escaping (Item, String) -> TemplateValue?) throws -> [UInt8] {
        let scope = Scope { name in
            if name == RunField.severalCurrencies.rawValue { return .flag(currencies.count > 1) }
            guard name == section else { return nil }
            return table(items, count: items.count) { items, index, name in value(items[index], name) }
        }
        return try finish(template, scope, currency: currencies.first ?? "RUB")
    }

    /// Renders a whole file into `bytes`, replacing what was there (its capacity is kept).
    func finish(_ template: Template, _ scope: any TemplateScope, currency: String, rows: Int = 0, into bytes: inout [UInt8]) throws {
        bytes.removeAll(keepingCapacity: true)
        // Room for the rows up front: growing a large buffer step by step copies it again and again.
        bytes.reserveCapacity(4096 + rows * (template.contentType == .html ? 320 : 96))
        if case .csv(let dialect) = template.contentType { bytes.append(contentsOf: dialect.byteOrderMark) }
        try template.render(scope, currency: currency, language: templates.language, into: &bytes)
    }

    func finish(_ template: Template, _ scope: any TemplateScope, currency: String, rows: Int = 0) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try finish(template, scope, currency: currency, rows: rows, into: &bytes)
        return bytes
    }

    // MARK: Scopes

    /// The fields of the run: its period and currency.
    enum RunField: String, CaseIterable {
        case periodFrom = "period_from"
        case periodTo = "period_to"
        case currency
        case currencySign = "currency_sign"
        /// SPEC §4: a run of more than one currency; every money row then says its currency.
        case severalCurrencies = "several_currencies"
        /// The run's currencies, comma-separated.
        case currencies = "run_currencies"
        /// `false` for a postpaid layout (a profile's `balances: no`): pages show spend, not balances.
        case showsBalances = "shows_balances"
    }

    static func runValue(_ report: RunReport, _ name: String) -> TemplateValue? {
        RunField(rawValue: name).flatMap { runValue(report, $0) }
    }

    static func runValue(_ report: RunReport, _ field: RunField) -> TemplateValue? {
        switch field {
        case .periodFrom: return .date(report.period.firstDay)
        case .periodTo: return .date(report.period.lastDay)
        // A run of several currencies has no one currency: a row's or a section's own answers.
        case .currency: return report.isMultiCurrency ? nil : .text(report.currencies.first ?? "RUB")
        case .currencySign: return report.isMultiCurrency ? nil : .text(Formatting.currencySign(report.currencies.first ?? "RUB"))
        case .severalCurrencies: return .flag(report.isMultiCurrency)
        case .currencies: return .text(report.currencies.joined(separator: ", "))
        case .showsBalances: return .flag(report.showsBalances)
        }
    }

    func rejectsFile(_ report: RunReport) throws -> [UInt8] {
        try rejectsFile(report.summary, currencies: report.currencies)
    }

    /// `rejects.csv` from the summary alone (also what a merge of run parts writes).
    package func rejectsFile(_ summary: RunSummary, currencies: [String]) throws -> [UInt8] {
        try runTable(templates.rejectsCSV, section: "rejects", summary.rejections, currencies: currencies) { r, name in
            switch name {
            case "file": return .text(summary.path(of: r.source))
            case "line": return .text(String(r.source.line))
            case "record": return .text(r.kind?.rawValue ?? "file")
            case "id": return .text(r.recordID)
            case "amount": return r.amount.map { .money($0) } ?? .text("")
            // The amount's currency (empty where no amount could be read).
            case "currency": return .text(r.amount == nil ? "" : r.currency)
            case "reason": return .text(r.reason)
            default: return nil
            }
        }
    }
}
