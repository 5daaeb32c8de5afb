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

    /// File names inside a templates folder.
    public static let fileNames = [
        "index.html.mustache", "snapshot.html.mustache", "client.html.mustache", "client.csv.mustache",
        "services.csv.mustache", "daily.csv.mustache", "snapshot.csv.mustache", "rejects.csv.mustache",
    ]

    /// Compiles the templates from `read(fileName) -> source`.
    public init(dialect: CSVDialect, read: (String) throws -> String) throws {
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
    }
}

/// How values are written for one content type: exact for CSV, Russian display form for HTML.
struct Presentation {
    let contentType: ContentType
    let currency: String

    func money(_ money: Money) -> String {
        switch contentType {
        case .csv(let dialect): return Formatting.csvAmount(money, dialect: dialect)
        case .html: return Formatting.russianAmount(money, currency: currency)
        }
    }

    func instant(_ instant: Instant) -> String {
        contentType == .html ? Formatting.russianDateTime(instant) : MoscowTime.isoText(instant)
    }

    func date(_ date: CivilDate) -> String {
        contentType == .html ? Formatting.russianDate(date) : date.isoText
    }
}

/// Render: turns a `RunReport` into files through the templates, handing each to `emit`.
public struct ReportRenderer {
    public let templates: TemplateSet
    public let dialect: CSVDialect

    public init(templates: TemplateSet, dialect: CSVDialect) {
        self.templates = templates
        self.dialect = dialect
    }

    /// Renders every report of every partner (SPEC §4), the rejects list when asked for, and `summary.json`.
    public func render(_ report: RunReport, includeRejects: Bool, emit: (String, [UInt8]) throws -> Void) throws {
        for partner in report.partners {
            let folder = FileNames.safeName(for: partner.partnerID)
            var clientFiles: [String: String] = [:]
            for client in partner.clients {
                let name = FileNames.safeName(for: client.client.id)
                if let other = clientFiles[name] {
                    throw OutputError("clients '\(other)' and '\(client.client.id)' would share the file name \(name)")
                }
                clientFiles[name] = client.client.id
            }
            try emit("\(folder)/index.html", try page(templates.partnerIndex, partner, report))
            try emit("\(folder)/snapshot.html", try page(templates.partnerSnapshotHTML, partner, report))
            try emit("\(folder)/services.csv", try page(templates.servicesCSV, partner, report))
            try emit("\(folder)/daily.csv", try page(templates.dailyCSV, partner, report))
            try emit("\(folder)/snapshot.csv", try page(templates.snapshotCSV, partner, report))
            for client in partner.clients {
                let name = FileNames.safeName(for: client.client.id)
                try emit("\(folder)/clients/\(name).html", try clientPage(templates.clientHTML, client, partner, report))
                try emit("\(folder)/clients/\(name).csv", try clientPage(templates.clientCSV, client, partner, report))
            }
        }
        if includeRejects {
            try emit("rejects.csv", try rejectsFile(report))
        }
        try emit("summary.json", SummaryJSON.encode(report))
    }

    func finish(_ template: Template, _ scope: Scope) throws -> [UInt8] {
        var bytes: [UInt8] = []
        if case .csv(let dialect) = template.contentType { bytes = dialect.byteOrderMark }
        try template.render(scope, into: &bytes)
        return bytes
    }

    // MARK: Scopes

    func runScope(_ report: RunReport, _ p: Presentation) -> (String) -> TemplateValue? {
        { name in
            switch name {
            case "period_from": return .text(p.date(report.period.firstDay))
            case "period_to": return .text(p.date(report.period.lastDay))
            case "currency": return .text(report.currency)
            case "currency_sign": return .text(Formatting.currencySign(report.currency))
            default: return nil
            }
        }
    }

    func page(_ template: Template, _ partner: PartnerReport, _ report: RunReport) throws -> [UInt8] {
        let p = Presentation(contentType: template.contentType, currency: report.currency)
        let run = runScope(report, p)
        let maxSpend = partner.services.map(\.net).max() ?? .zero
        let serviceRows = partner.clients.flatMap { client in client.services.map { (client.client.id, $0) } }
        let dailyRows = partner.clients.flatMap { client in client.daily.map { (client.client.id, $0) } }
        let scope = Scope { name in
            switch name {
            case "partner_id": return .text(partner.partnerID)
            case "client_count": return .text(String(partner.clients.count))
            case "totals": return .scope(movementScope(partner.totals, p))
            case "services":
                return .rows(count: partner.services.count) { index in
                    serviceScope(partner.services[index], p, maxSpend: maxSpend)
                }
            case "has_services": return .flag(!partner.services.isEmpty)
            case "client_services":
                return .rows(count: serviceRows.count) { index in
                    let (clientID, spend) = serviceRows[index]
                    return Scope { name in name == "client_id" ? .text(clientID) : serviceScope(spend, p, maxSpend: maxSpend).value(name) }
                }
            case "daily":
                return .rows(count: dailyRows.count) { index in
                    let (clientID, day) = dailyRows[index]
                    return Scope { name in
                        switch name {
                        case "client_id": return .text(clientID)
                        case "date": return .text(p.date(day.date))
                        case "service": return .text(day.service)
                        case "net": return .text(p.money(day.net))
                        default: return nil
                        }
                    }
                }
            case "clients":
                return .rows(count: partner.clients.count) { index in clientScope(partner.clients[index], p) }
            default: return run(name)
            }
        }
        return try finish(template, scope)
    }

    func clientPage(_ template: Template, _ client: ClientReport, _ partner: PartnerReport, _ report: RunReport) throws -> [UInt8] {
        let p = Presentation(contentType: template.contentType, currency: report.currency)
        let run = runScope(report, p)
        let base = clientScope(client, p)
        let maxSpend = client.services.map(\.net).max() ?? .zero
        let scope = Scope { name in
            switch name {
            case "partner_id": return .text(partner.partnerID)
            case "transactions":
                return .rows(count: client.detail.count) { index in detailScope(client.detail[index], p) }
            case "services":
                return .rows(count: client.services.count) { index in serviceScope(client.services[index], p, maxSpend: maxSpend) }
            case "has_services": return .flag(!client.services.isEmpty)
            case "daily":
                return .rows(count: client.daily.count) { index in
                    let day = client.daily[index]
                    return Scope { name in
                        switch name {
                        case "date": return .text(p.date(day.date))
                        case "service": return .text(day.service)
                        case "net": return .text(p.money(day.net))
                        default: return nil
                        }
                    }
                }
            case "has_daily": return .flag(!client.daily.isEmpty)
            default: return base.value(name) ?? run(name)
            }
        }
        return try finish(template, scope)
    }

    func movementScope(_ m: BalanceMovement, _ p: Presentation) -> Scope {
        Scope { name in
            switch name {
            case "opening_balance": return .text(p.money(m.opening))
            case "topups": return .text(p.money(m.topups))
            case "charges": return .text(p.money(m.charges))
            case "refunds": return .text(p.money(m.refunds))
            case "closing_balance": return .text(p.money(m.closing))
            case "closing_negative": return .flag(m.closing.isNegative)
            default: return nil
            }
        }
    }

    func serviceScope(_ spend: ServiceSpend, _ p: Presentation, maxSpend: Money) -> Scope {
        Scope { name in
            switch name {
            case "service": return .text(spend.service)
            case "charged": return .text(p.money(spend.charged))
            case "refunded": return .text(p.money(spend.refunded))
            case "net": return .text(p.money(spend.net))
            // Bar length in percent of the largest spend, for table-cell bar charts.
            case "bar_percent":
                guard maxSpend.micros > 0, spend.net.micros > 0 else { return .text("0") }
                return .text(String(max(1, Int(spend.net.micros * 100 / maxSpend.micros))))
            default: return nil
            }
        }
    }

    func clientScope(_ client: ClientReport, _ p: Presentation) -> Scope {
        let money = client.movement.map { movementScope($0, p) }
        let record = client.client
        return Scope { name in
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
            case "state_since": return .text(client.stateSince.map(p.instant) ?? "")
            case "has_money": return .flag(client.movement != nil)
            case "opening_balance", "topups", "charges", "refunds", "closing_balance", "closing_negative":
                return money?.value(name) ?? (name == "closing_negative" ? .flag(false) : .text(""))
            default: return nil
            }
        }
    }

    func detailScope(_ line: DetailLine, _ p: Presentation) -> Scope {
        let t = line.transaction
        return Scope { name in
            switch name {
            case "id": return .text(t.id)
            case "timestamp": return .text(p.instant(t.instant))
            case "type": return .text(t.kind.rawValue)
            case "is_topup": return .flag(t.kind == .topup)
            case "is_charge": return .flag(t.kind == .charge)
            case "is_refund": return .flag(t.kind == .refund)
            case "service": return .text(t.service)
            case "amount": return .text(p.money(t.amount))
            case "signed_amount": return .text(p.money(t.net))
            case "balance_after": return .text(p.money(line.balanceAfter))
            case "balance_negative": return .flag(line.balanceAfter.isNegative)
            case "description": return .text(t.description)
            default: return nil
            }
        }
    }

    func rejectsFile(_ report: RunReport) throws -> [UInt8] {
        let p = Presentation(contentType: templates.rejectsCSV.contentType, currency: report.currency)
        let rejections = report.summary.rejections
        let files = report.summary.files
        let scope = Scope { name in
            guard name == "rejects" else { return nil }
            return .rows(count: rejections.count) { index in
                let r = rejections[index]
                return Scope { name in
                    switch name {
                    case "file": return .text(Int(r.source.file) < files.count ? files[Int(r.source.file)].path : "")
                    case "line": return .text(String(r.source.line))
                    case "record": return .text(r.kind?.rawValue ?? "file")
                    case "id": return .text(r.recordID)
                    case "amount": return .text(r.amount.map(p.money) ?? "")
                    case "reason": return .text(r.reason)
                    default: return nil
                    }
                }
            }
        }
        return try finish(templates.rejectsCSV, scope)
    }
}
