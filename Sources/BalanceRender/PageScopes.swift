import BalanceReport
import BalanceModel
import BalanceSupport
import Dispatch
import Synchronization

// The scopes of a partner's pages and of a client's page: each page's own fields (an enum), then
// the summary's, the client's, the run's and the comparison's.
extension ReportRenderer {
    func page(_ template: Template, _ partner: PartnerReport, _ report: RunReport) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try page(template, partner, report, into: &bytes)
        return bytes
    }

    /// The fields of a partner's pages and tables beside the summary's (`SummaryField`), the run's and the comparison's.
    enum PartnerPageField: String, CaseIterable {
        case partnerId = "partner_id"
        case clientCount = "client_count"
        case totals
        case services
        case hasServices = "has_services"
        case anyUnattachedChange = "any_unattached_change"
        case attachmentsXlsx = "attachments_xlsx"
        case inFolder = "in_folder"
        case attachedFiles = "attached_files"
        case clientServices = "client_services"
        case daily
        case clients
    }

    func page(_ template: Template, _ partner: PartnerReport, _ report: RunReport, into bytes: inout [UInt8]) throws {
        /// (client, item) positions: computed only for the template that lists them, and copying no strings.
        func positions(_ count: (ClientReport) -> Int) -> [(client: Int32, item: Int32)] {
            partner.clients.indices.flatMap { c in (0..<count(partner.clients[c])).map { (Int32(c), Int32($0)) } }
        }
        let books = partner.currencies.map { book in (book, Lazy { PartnerHighlights(partner, book) }) }
        /// A row's currency: the currency of its client entry.
        let entryCurrency = { (rows: [(client: Int32, item: Int32)], index: Int) -> String? in
            partner.clients[Int(rows[index].client)].currency
        }
        let scope = Scope { name in
            guard let field = PartnerPageField(rawValue: name) else {
                if name == "currencies" {
                    return table(books, count: books.count, currency: { $0[$1].0.currency }) { books, index, name in
                        ReportRenderer.bookValue(partner, books[index].0, books[index].1, name, balances: report.showsBalances)
                    }
                }
                // A partner of one currency answers its book's names at the top too (templates
                // written before `currencies`); one of several never sums them.
                if books.count == 1,
                   let value = ReportRenderer.bookValue(partner, books[0].0, books[0].1, name, balances: report.showsBalances) { return value }
                return ReportRenderer.attentionValue(partner, name) ?? ReportRenderer.runValue(report, name) ?? ComparisonValues.partnerValue(partner, name)
            }
            switch field {
            case .partnerId: return .text(partner.partnerID)
            case .clientCount: return .text(String(partner.clientCount))
            case .totals, .services, .hasServices:
                return books.count == 1 ? ReportRenderer.bookValue(partner, books[0].0, books[0].1, name, balances: report.showsBalances) : nil
            case .anyUnattachedChange: return .flag(partner.hasGaps && report.showsBalances)
            case .attachmentsXlsx: return .flag(attachesXLSX)
            case .inFolder, .attachedFiles: return folderValue(field.rawValue)
            case .clientServices:
                let rows = positions { $0.services.count }
                let maxSpend = partner.currencies.map { $0.services.map(\.net).max() ?? .zero }
                let bookOf = Dictionary(uniqueKeysWithValues: partner.currencies.enumerated().map { (ByteKey($1.currency), $0) })
                return .table(FieldTable(rows, count: rows.count, currency: entryCurrency) { rows, index, field in
                    let client = partner.clients[Int(rows[index].client)]
                    return ReportRenderer.serviceValue(client.services[Int(rows[index].item)],
                                                       maxSpend: maxSpend[bookOf[ByteKey(client.currency)] ?? 0], field,
                                                       clientID: client.client.id, currency: client.currency)
                })
            case .daily:
                let rows = positions { $0.daily.count }
                return .table(FieldTable(rows, count: rows.count, currency: entryCurrency) { rows, index, field in
                    let client = partner.clients[Int(rows[index].client)]
                    return ReportRenderer.dailyValue(client.daily[Int(rows[index].item)], field, clientID: client.client.id,
                                                     currency: client.currency)
                })
            case .clients:
                return table(partner.clients, count: partner.clients.count, currency: { $0[$1].currency }) { clients, index, name in
                    ReportRenderer.clientValue(clients[index], name) ?? ClientHighlights.value(clients[index], name)
                }
            }
        }
        try finish(template, scope, currency: partner.currencies[0].currency,
                   rows: partner.clients.count + (template.name.hasPrefix("daily") ? partner.clients.reduce(0) { $0 + $1.daily.count } : 0),
                   into: &bytes)
    }

    /// The partner summary's selections in one currency: the largest clients, the rest summed up.
    enum SummaryField: String, CaseIterable {
        case currency
        case totals
        case services
        case hasServices = "has_services"
        case clientCount = "client_count"
        case totalSpend = "total_spend"
        case topClients = "top_clients"
        case topClientsCount = "top_clients_count"
        case hasMoreClients = "has_more_clients"
        case moreClientsCount = "more_clients_count"
        case moreClients = "more_clients"
    }

    /// The clients to call out, over every currency (each row's money in its own).
    enum AttentionField: String, CaseIterable {
        case attention
        case hasAttention = "has_attention"
        case attentionCount = "attention_count"
        case hasMoreAttention = "has_more_attention"
        case moreAttentionCount = "more_attention_count"
    }

    static func clientRows(_ partner: PartnerReport, _ indices: [Int]) -> TemplateValue {
        table(indices, count: indices.count, currency: { partner.clients[$0[$1]].currency }) { indices, index, name in
            let client = partner.clients[indices[index]]
            return ReportRenderer.clientValue(client, name) ?? ClientHighlights.value(client, name)
        }
    }

    static func attentionValue(_ partner: PartnerReport, _ name: String) -> TemplateValue? {
        guard let field = AttentionField(rawValue: name) else { return nil }
        let shown = Array(partner.attention.prefix(PartnerHighlights.attentionLimit))
        switch field {
        case .attention: return clientRows(partner, shown)
        case .hasAttention: return .flag(!partner.attention.isEmpty)
        case .attentionCount: return .text(String(partner.attention.count))
        case .hasMoreAttention: return .flag(partner.attention.count > shown.count)
        case .moreAttentionCount: return .text(String(partner.attention.count - shown.count))
        }
    }

    static func bookValue(_ partner: PartnerReport, _ book: PartnerCurrency, _ highlights: Lazy<PartnerHighlights>,
                          _ name: String, balances: Bool) -> TemplateValue? {
        guard let field = SummaryField(rawValue: name) else { return ComparisonValues.bookValue(book, name) }
        switch field {
        case .currency: return .text(book.currency)
        case .totals: return .scope(Scope { ReportRenderer.movementValue(book.totals, $0, balances: balances) })
        case .services:
            let maxSpend = book.services.map(\.net).max() ?? .zero
            return .table(FieldTable(book.services, count: book.services.count, fields: ServiceField.ofSpend) { services, index, field in
                ReportRenderer.serviceValue(services[index], maxSpend: maxSpend, field)
            })
        case .hasServices: return .flag(!book.services.isEmpty)
        case .clientCount: return .text(String(book.bySpend.count))
        case .totalSpend: return .money(book.totals.spend)
        case .topClients: return clientRows(partner, highlights.value.top)
        case .topClientsCount: return .text(String(highlights.value.top.count))
        case .hasMoreClients: return .flag(highlights.value.restCount > 0)
        case .moreClientsCount: return .text(String(highlights.value.restCount))
        case .moreClients:
            let summary = highlights.value
            return .scope(Scope { name in
                name == "spend" ? .money(summary.restSpend) : ReportRenderer.movementValue(summary.rest, name, balances: balances)
            })
        }
    }

    func clientPage(_ template: Template, _ entries: ArraySlice<ClientReport>, _ partner: PartnerReport, _ report: RunReport) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try clientPage(template, entries, partner, report, into: &bytes)
        return bytes
    }

    /// The fields of a client's page beside the client's own (`ClientField`, `ClientHighlights.Field`), the run's and the comparison's.
    enum ClientPageField: String, CaseIterable {
        case partnerId = "partner_id"
        case inFolder = "in_folder"
        case attachedFiles = "attached_files"
        case transactions
        case services
        case hasServices = "has_services"
        case daily
        case hasDaily = "has_daily"
    }

    /// A client's page (or detail CSV): `entries` are its reports, one per currency. The money of
    /// each is under `currencies`; a client of one currency also answers its names at the top
    /// (templates written before `currencies`), one of several only its record's and state's.
    func clientPage(_ template: Template, _ entries: ArraySlice<ClientReport>, _ partner: PartnerReport, _ report: RunReport,
                    into bytes: inout [UInt8]) throws {
        let scopes = entries.map { entryScope($0, partner, report) }
        let first = entries.first!
        let scope = Scope { name in
            if name == "currencies" {
                return table(scopes, count: scopes.count, currency: { $0[$1].currency }) { scopes, index, name in scopes[index].value(name) }
            }
            if scopes.count == 1 { return scopes[0].value(name) }
            // Whether any of its currencies' money is shown (the page's one rounding note).
            if name == ClientField.hasMoney.rawValue { return .flag(entries.contains { $0.movement != nil }) }
            if let field = ClientField(rawValue: name), field != .currency {
                return ReportRenderer.clientValue(first, field)
            }
            if let field = ClientPageField(rawValue: name), field == .partnerId || field == .inFolder || field == .attachedFiles {
                return scopes[0].value(name)
            }
            return ReportRenderer.runValue(report, name)
        }
        try finish(template, scope, currency: first.currency,
                   rows: entries.reduce(0) { $0 + $1.detail.count + $1.daily.count }, into: &bytes)
    }

    /// The names of one of a client's entries (its money in one currency), in that currency.
    func entryScope(_ client: ClientReport, _ partner: PartnerReport, _ report: RunReport) -> Scope {
        let maxSpend = client.services.map(\.net).max() ?? .zero
        return Scope(currency: client.currency) { name in
            guard let field = ClientPageField(rawValue: name) else {
                return ReportRenderer.clientValue(client, name) ?? ReportRenderer.runValue(report, name) ?? ClientHighlights.value(client, name) ?? ComparisonValues.clientValue(client, partner, name)
            }
            switch field {
            case .partnerId: return .text(partner.partnerID)
            case .inFolder, .attachedFiles: return folderValue(field.rawValue)
            case .transactions:
                let rows = DetailRows(client)
                return .table(FieldTable(rows, count: rows.count, ReportRenderer.detailValue))
            case .services:
                return .table(FieldTable(client.services, count: client.services.count, fields: ServiceField.ofSpend) { services, index, field in
                    ReportRenderer.serviceValue(services[index], maxSpend: maxSpend, field)
                })
            case .hasServices: return .flag(!client.services.isEmpty)
            case .daily:
                return .table(FieldTable(client.daily, count: client.daily.count, fields: DailyField.ofSpend) { daily, index, field in
                    ReportRenderer.dailyValue(daily[index], field)
                })
            case .hasDaily: return .flag(!client.daily.isEmpty)
            }
        }
    }
}
