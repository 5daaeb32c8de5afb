import BalanceReport
import BalanceModel
import BalanceSupport
import Dispatch
import Synchronization

/// A scope answered by a closure: the views below are small switch statements over names.
struct Scope: TemplateScope {
    let lookup: (String) -> TemplateValue?
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
    /// How the HTML pages show figures (`Templates/<language>` is the default folder).
    public var language: ReportLanguage

    /// File names inside a templates folder.
    public static let fileNames = [
        "index.html.mustache", "snapshot.html.mustache", "client.html.mustache", "client.csv.mustache",
        "services.csv.mustache", "daily.csv.mustache", "snapshot.csv.mustache", "rejects.csv.mustache",
        "changes.csv.mustache", "unknown-clients.csv.mustache",
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
    }
}

/// One reusable scope per table: moving it to the next row allocates nothing.
final class RowCursor<Source>: TemplateScope {
    var index = 0
    let source: Source
    let lookup: (Source, Int, String) -> TemplateValue?

    init(_ source: Source, _ lookup: @escaping (Source, Int, String) -> TemplateValue?) {
        self.source = source
        self.lookup = lookup
    }

    func value(_ name: String) -> TemplateValue? { lookup(source, index, name) }
}

/// A table section over `count` rows of `source`.
func table<Source>(_ source: Source, count: Int, _ lookup: @escaping (Source, Int, String) -> TemplateValue?) -> TemplateValue {
    let cursor = RowCursor(source, lookup)
    return .rows(count: count) { index in
        cursor.index = index
        return cursor
    }
}

/// A large table whose fields are the cases of `Field`: the template resolves each name to a case
/// once per section, and each cell is a switch over the case.
final class FieldTable<Source, Field: RawRepresentable & CaseIterable>: TemplateTable where Field.RawValue == String {
    let source: Source
    let count: Int
    let value: (Source, Int, Field) -> TemplateValue
    /// The fields these rows offer; a name outside them is asked of the enclosing scopes.
    let fields: [Field]

    init(_ source: Source, count: Int, fields: [Field] = Array(Field.allCases),
         _ value: @escaping (Source, Int, Field) -> TemplateValue) {
        self.source = source
        self.count = count
        self.fields = fields
        self.value = value
    }

    func field(_ name: String) -> Int? { fields.firstIndex { $0.rawValue == name } }
    func value(row: Int, field: Int) -> TemplateValue { value(source, row, fields[field]) }
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
        enum Job { case partnerPages(Int), client(Int, Int) }
        let jobs: [Job] = report.partners.indices.flatMap { partner in
            [Job.partnerPages(partner)] + report.partners[partner].clients.indices.map { Job.client(partner, $0) }
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
                        for (file, template) in [("index.html", templates.partnerIndex), ("snapshot.html", templates.partnerSnapshotHTML),
                                                 ("services.csv", templates.servicesCSV), ("daily.csv", templates.dailyCSV),
                                                 ("snapshot.csv", templates.snapshotCSV)] {
                            try page(template, partner, report, into: &buffer)
                            try emit("\(folder)/\(file)", buffer)
                        }
                        if partner.comparison != nil {
                            try page(templates.changesCSV, partner, report, into: &buffer)
                            try emit("\(folder)/changes.csv", buffer)
                        }
                        if xlsx {
                            for (file, bytes) in try workbooks(partner, report) { try emit("\(folder)/\(file)", bytes) }
                        }
                    case .client(let p, let c):
                        let partner = report.partners[p]
                        let client = partner.clients[c]
                        let path = "\(FileNames.safeName(for: partner.partnerID))/clients/\(FileNames.safeName(for: client.client.id))"
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
            try emit("rejects.csv", try rejectsFile(report))
        }
        if !report.summary.unknownClients.isEmpty {
            try emit(ReportRenderer.unknownClientsFileName, try unknownClientsFile(report.summary, currency: report.currency))
        }
        try emit("summary.json", SummaryJSON.encode(report))
    }

    public static let unknownClientsFileName = "unknown-clients.csv"

    /// `unknown-clients.csv`: one row per client id and currency, with the first `file:line`.
    package func unknownClientsFile(_ summary: RunSummary, currency: String) throws -> [UInt8] {
        let entries = summary.unknownClients
        let files = summary.files
        let scope = Scope { name in
            guard name == "unknown_clients" else { return nil }
            return table(entries, count: entries.count) { entries, index, name in
                let entry = entries[index]
                switch name {
                case "client_id": return .text(entry.clientID)
                case "currency": return .text(entry.currency)
                case "transactions": return .text(String(entry.transactions))
                case "amount": return .money(entry.amount)
                case "first_file": return .text(Int(entry.first.file) < files.count ? files[Int(entry.first.file)].path : "")
                case "first_line": return .text(String(entry.first.line))
                default: return nil
                }
            }
        }
        return try finish(templates.unknownClientsCSV, scope, currency: currency)
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

    static func runValue(_ report: RunReport, _ name: String) -> TemplateValue? {
        switch name {
        case "period_from": return .date(report.period.firstDay)
        case "period_to": return .date(report.period.lastDay)
        case "currency": return .text(report.currency)
        case "currency_sign": return .text(Formatting.currencySign(report.currency))
        default: return nil
        }
    }

    func page(_ template: Template, _ partner: PartnerReport, _ report: RunReport) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try page(template, partner, report, into: &bytes)
        return bytes
    }

    func page(_ template: Template, _ partner: PartnerReport, _ report: RunReport, into bytes: inout [UInt8]) throws {
        let maxSpend = partner.services.map(\.net).max() ?? .zero
        /// (client, item) positions: computed only for the template that lists them, and copying no strings.
        func positions(_ count: (ClientReport) -> Int) -> [(client: Int32, item: Int32)] {
            partner.clients.indices.flatMap { c in (0..<count(partner.clients[c])).map { (Int32(c), Int32($0)) } }
        }
        let highlights = Lazy { PartnerHighlights(partner) }
        let scope = Scope { name in
            switch name {
            case "partner_id": return .text(partner.partnerID)
            case "client_count": return .text(String(partner.clients.count))
            case "totals": return .scope(Scope { ReportRenderer.movementValue(partner.totals, $0) })
            case "services":
                return .table(FieldTable(partner.services, count: partner.services.count, fields: ServiceField.ofSpend) { services, index, field in
                    ReportRenderer.serviceValue(services[index], maxSpend: maxSpend, field)
                })
            case "has_services": return .flag(!partner.services.isEmpty)
            case "any_unattached_change": return .flag(partner.hasGaps)
            case "attachments_xlsx": return .flag(attachesXLSX)
            case "in_folder", "attached_files": return folderValue(name)
            case "client_services":
                let rows = positions { $0.services.count }
                return .table(FieldTable(rows, count: rows.count) { rows, index, field in
                    let client = partner.clients[Int(rows[index].client)]
                    return ReportRenderer.serviceValue(client.services[Int(rows[index].item)], maxSpend: maxSpend, field,
                                                       clientID: client.client.id)
                })
            case "daily":
                let rows = positions { $0.daily.count }
                return .table(FieldTable(rows, count: rows.count) { rows, index, field in
                    let client = partner.clients[Int(rows[index].client)]
                    return ReportRenderer.dailyValue(client.daily[Int(rows[index].item)], field, clientID: client.client.id)
                })
            case "clients":
                return table(partner.clients, count: partner.clients.count) { clients, index, name in
                    ReportRenderer.clientValue(clients[index], name) ?? ClientHighlights.value(clients[index], name)
                }
            default: return ReportRenderer.summaryValue(partner, highlights, name) ?? ReportRenderer.runValue(report, name)
                ?? ComparisonValues.partnerValue(partner, name)
            }
        }
        try finish(template, scope, currency: report.currency,
                   rows: partner.clients.count + (template.name.hasPrefix("daily") ? partner.clients.reduce(0) { $0 + $1.daily.count } : 0),
                   into: &bytes)
    }

    /// The partner summary's selections: the largest clients, the rest summed up, the clients to call out.
    static func summaryValue(_ partner: PartnerReport, _ highlights: Lazy<PartnerHighlights>, _ name: String) -> TemplateValue? {
        func rows(_ indices: [Int]) -> TemplateValue {
            table(indices, count: indices.count) { indices, index, name in
                let client = partner.clients[indices[index]]
                return ReportRenderer.clientValue(client, name) ?? ClientHighlights.value(client, name)
            }
        }
        switch name {
        case "total_spend": return .money(partner.totals.charges - partner.totals.refunds)
        case "top_clients": return rows(highlights.value.top)
        case "top_clients_count": return .text(String(highlights.value.top.count))
        case "has_more_clients": return .flag(highlights.value.restCount > 0)
        case "more_clients_count": return .text(String(highlights.value.restCount))
        case "more_clients":
            let summary = highlights.value
            return .scope(Scope { name in
                name == "spend" ? .money(summary.restSpend) : ReportRenderer.movementValue(summary.rest, name)
            })
        case "attention": return rows(highlights.value.attention)
        case "has_attention": return .flag(highlights.value.attentionCount > 0)
        case "attention_count": return .text(String(highlights.value.attentionCount))
        case "has_more_attention": return .flag(highlights.value.attentionCount > highlights.value.attention.count)
        case "more_attention_count": return .text(String(highlights.value.attentionCount - highlights.value.attention.count))
        default: return nil
        }
    }

    func clientPage(_ template: Template, _ client: ClientReport, _ partner: PartnerReport, _ report: RunReport) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try clientPage(template, client, partner, report, into: &bytes)
        return bytes
    }

    func clientPage(_ template: Template, _ client: ClientReport, _ partner: PartnerReport, _ report: RunReport,
                    into bytes: inout [UInt8]) throws {
        let maxSpend = client.services.map(\.net).max() ?? .zero
        let scope = Scope { name in
            switch name {
            case "partner_id": return .text(partner.partnerID)
            case "in_folder", "attached_files": return folderValue(name)
            case "transactions":
                let rows = DetailRows(client)
                return .table(FieldTable(rows, count: rows.count, ReportRenderer.detailValue))
            case "services":
                return .table(FieldTable(client.services, count: client.services.count, fields: ServiceField.ofSpend) { services, index, field in
                    ReportRenderer.serviceValue(services[index], maxSpend: maxSpend, field)
                })
            case "has_services": return .flag(!client.services.isEmpty)
            case "daily":
                return .table(FieldTable(client.daily, count: client.daily.count, fields: DailyField.ofSpend) { daily, index, field in
                    ReportRenderer.dailyValue(daily[index], field)
                })
            case "has_daily": return .flag(!client.daily.isEmpty)
            default:
                return ReportRenderer.clientValue(client, name) ?? ReportRenderer.runValue(report, name)
                    ?? ClientHighlights.value(client, name) ?? ComparisonValues.clientValue(client, partner, name)
            }
        }
        try finish(template, scope, currency: report.currency, rows: client.detail.count + client.daily.count, into: &bytes)
    }

    static func movementValue(_ m: BalanceMovement, _ name: String) -> TemplateValue? {
        switch name {
        case "opening_balance": return .money(m.opening)
        case "topups": return .money(m.topups)
        case "charges": return .money(m.charges)
        case "refunds": return .money(m.refunds)
        case "unattached_change": return .money(m.unattachedChange)
        case "closing_balance": return .money(m.closing)
        case "closing_negative": return .flag(m.closing.isNegative)
        default: return nil
        }
    }

    /// The fields of a service-spend row (`client_id` only in the partner's per-client table).
    enum ServiceField: String, CaseIterable {
        case clientID = "client_id", service, charged, refunded, net
        /// Bar length in percent of the largest spend, for table-cell bar charts.
        case barPercent = "bar_percent"

        /// Without `client_id`, which a client's own tables leave to the enclosing scope.
        static let ofSpend = allCases.filter { $0 != .clientID }
    }

    static func serviceValue(_ spend: ServiceSpend, maxSpend: Money, _ field: ServiceField, clientID: String = "") -> TemplateValue {
        switch field {
        case .clientID: return .text(clientID)
        case .service: return .text(spend.service)
        case .charged: return .money(spend.charged)
        case .refunded: return .money(spend.refunded)
        case .net: return .money(spend.net)
        case .barPercent:
            guard maxSpend.picos > 0, spend.net.picos > 0 else { return .text("0") }
            return .text(String(max(1, Int(spend.net.picos * 100 / maxSpend.picos))))
        }
    }

    /// The fields of a daily-spend row (`client_id` only in the partner's table).
    enum DailyField: String, CaseIterable {
        case clientID = "client_id", date, service, net

        static let ofSpend = allCases.filter { $0 != .clientID }
    }

    static func dailyValue(_ day: DailySpend, _ field: DailyField, clientID: String = "") -> TemplateValue {
        switch field {
        case .clientID: return .text(clientID)
        case .date: return .date(day.date)
        case .service: return .text(day.service)
        case .net: return .money(day.net)
        }
    }

    static func clientValue(_ client: ClientReport, _ name: String) -> TemplateValue? {
        let record = client.client
        switch name {
        case "client_id": return .text(record.id)
        case "client_file": return .text(FileNames.safeName(for: record.id))
        case "name": return .text(record.name)
        case "email": return .text(record.email)
        case "phone": return .text(record.phone)
        case "state": return .text(client.state.rawValue)
        case "is_invited": return .flag(client.state == .invited)
        case "is_active": return .flag(client.state == .active)
        case "is_blocked": return .flag(client.state == .blocked)
        case "is_removed": return .flag(client.state == .removed)
        case "state_since": return client.stateSince.map { .spreadsheetInstant($0) } ?? .text("")
        case "has_money": return .flag(client.movement != nil)
        case "opening_balance", "topups", "charges", "refunds", "unattached_change", "closing_balance", "closing_negative":
            // A client whose money the partner does not see shows empty columns, not zeros.
            guard let movement = client.movement else { return name == "closing_negative" ? .flag(false) : .text("") }
            return movementValue(movement, name)
        default: return nil
        }
    }

    enum DetailField: String, CaseIterable {
        case id, timestamp, type, service, amount, description
        case isTopup = "is_topup", isCharge = "is_charge", isRefund = "is_refund"
        case signedAmount = "signed_amount", balanceAfter = "balance_after", balanceNegative = "balance_negative"
        /// A gap row (`UnattachedGap`): the client detached and attached again; its two moments.
        case isUnattached = "is_unattached", unattachedFrom = "unattached_from", unattachedTo = "unattached_to"
    }

    /// A client's detail rows: its visible transactions with, where the client was detached and
    /// attached again, one gap row between them, in time order.
    final class DetailRows {
        let detail: DetailLines
        let gaps: [UnattachedGap]
        /// The row of each gap.
        let gapRows: [Int]

        init(_ client: ClientReport) {
            detail = client.detail
            gaps = client.gaps
            gapRows = client.gaps.enumerated().map { $0.element.position + $0.offset }
        }

        var count: Int { detail.count + gaps.count }

        /// What row `row` shows: `.line(i)` is `detail[i]`, `.gap(k)` is `gaps[k]`.
        @inline(__always)
        func locate(_ row: Int) -> (line: Int, gap: Int?) {
            if gapRows.isEmpty { return (row, nil) }
            var low = 0
            var high = gapRows.count
            while low < high {
                let mid = (low + high) / 2
                if gapRows[mid] < row { low = mid + 1 } else { high = mid }
            }
            if low < gapRows.count && gapRows[low] == row { return (0, low) }
            return (row - low, nil)
        }
    }

    /// Reads only the field asked for, so a million-row table never copies whole transactions.
    static func detailValue(_ rows: DetailRows, _ row: Int, _ field: DetailField) -> TemplateValue {
        let (index, gapIndex) = rows.locate(row)
        if let gapIndex { return gapValue(rows.gaps[gapIndex], field) }
        let detail = rows.detail
        switch field {
        case .id: return .text(detail.id(index))
        case .timestamp: return .instant(detail.instant(index))
        case .type: return .text(detail.kind(index).rawValue)
        case .isTopup: return .flag(detail.kind(index) == .topup)
        case .isCharge: return .flag(detail.kind(index) == .charge)
        case .isRefund: return .flag(detail.kind(index) == .refund)
        case .service: return .text(detail.service(index))
        case .amount: return .money(detail.amount(index))
        case .signedAmount: return .money(detail.net(index))
        case .balanceAfter: return .money(detail.balanceAfter(index))
        case .balanceNegative: return .flag(detail.balanceAfter(index).isNegative)
        case .description: return .text(detail.description(index))
        case .isUnattached: return .flag(false)
        case .unattachedFrom, .unattachedTo: return .text("")
        }
    }

    /// The type a gap row carries in `type` (and in the client CSV, where `amount` is then signed).
    static let unattachedType = "unattached_change"

    /// A gap row: dated at the re-attachment, its amount the signed net movement, its balance the one at re-attachment.
    static func gapValue(_ gap: UnattachedGap, _ field: DetailField) -> TemplateValue {
        switch field {
        case .id, .service, .description: return .text("")
        case .timestamp, .unattachedTo: return .instant(gap.to)
        case .unattachedFrom: return .instant(gap.from)
        case .type: return .text(unattachedType)
        case .isTopup, .isCharge, .isRefund: return .flag(false)
        case .isUnattached: return .flag(true)
        case .amount, .signedAmount: return .money(gap.change)
        case .balanceAfter: return .money(gap.after)
        case .balanceNegative: return .flag(gap.after.isNegative)
        }
    }

    func rejectsFile(_ report: RunReport) throws -> [UInt8] {
        try rejectsFile(report.summary, currency: report.currency)
    }

    /// `rejects.csv` from the summary alone (also what a merge of run parts writes).
    package func rejectsFile(_ summary: RunSummary, currency: String) throws -> [UInt8] {
        let rejections = summary.rejections
        let files = summary.files
        let scope = Scope { name in
            guard name == "rejects" else { return nil }
            return table(rejections, count: rejections.count) { rejections, index, name in
                let r = rejections[index]
                switch name {
                case "file": return .text(Int(r.source.file) < files.count ? files[Int(r.source.file)].path : "")
                case "line": return .text(String(r.source.line))
                case "record": return .text(r.kind?.rawValue ?? "file")
                case "id": return .text(r.recordID)
                case "amount": return r.amount.map { .money($0) } ?? .text("")
                case "reason": return .text(r.reason)
                default: return nil
                }
            }
        }
        return try finish(templates.rejectsCSV, scope, currency: currency)
    }
}
