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
        let maxSpend = partner.services.map(\.net).max() ?? .zero
        /// (client, item) positions: computed only for the template that lists them, and copying no strings.
        func positions(_ count: (ClientReport) -> Int) -> [(client: Int32, item: Int32)] {
            partner.clients.indices.flatMap { c in (0..<count(partner.clients[c])).map { (Int32(c), Int32($0)) } }
        }
        let highlights = Lazy { PartnerHighlights(partner) }
        let scope = Scope { name in
            guard let field = PartnerPageField(rawValue: name) else {
                return ReportRenderer.summaryValue(partner, highlights, name) ?? ReportRenderer.runValue(report, name) ?? ComparisonValues.partnerValue(partner, name)
            }
            switch field {
            case .partnerId: return .text(partner.partnerID)
            case .clientCount: return .text(String(partner.clients.count))
            case .totals: return .scope(Scope { ReportRenderer.movementValue(partner.totals, $0) })
            case .services:
                return .table(FieldTable(partner.services, count: partner.services.count, fields: ServiceField.ofSpend) { services, index, field in
                    ReportRenderer.serviceValue(services[index], maxSpend: maxSpend, field)
                })
            case .hasServices: return .flag(!partner.services.isEmpty)
            case .anyUnattachedChange: return .flag(partner.hasGaps)
            case .attachmentsXlsx: return .flag(attachesXLSX)
            case .inFolder, .attachedFiles: return folderValue(field.rawValue)
            case .clientServices:
                let rows = positions { $0.services.count }
                return .table(FieldTable(rows, count: rows.count) { rows, index, field in
                    let client = partner.clients[Int(rows[index].client)]
                    return ReportRenderer.serviceValue(client.services[Int(rows[index].item)], maxSpend: maxSpend, field,
                                                       clientID: client.client.id)
                })
            case .daily:
                let rows = positions { $0.daily.count }
                return .table(FieldTable(rows, count: rows.count) { rows, index, field in
                    let client = partner.clients[Int(rows[index].client)]
                    return ReportRenderer.dailyValue(client.daily[Int(rows[index].item)], field, clientID: client.client.id)
                })
            case .clients:
                return table(partner.clients, count: partner.clients.count) { clients, index, name in
                    ReportRenderer.clientValue(clients[index], name) ?? ClientHighlights.value(clients[index], name)
                }
            }
        }
        try finish(template, scope, currency: report.currency,
                   rows: partner.clients.count + (template.name.hasPrefix("daily") ? partner.clients.reduce(0) { $0 + $1.daily.count } : 0),
                   into: &bytes)
    }

    /// The partner summary's selections: the largest clients, the rest summed up, the clients to call out.
    /// The fields of a partner summary's selections (top spenders, attention).
    enum SummaryField: String, CaseIterable {
        case totalSpend = "total_spend"
        case topClients = "top_clients"
        case topClientsCount = "top_clients_count"
        case hasMoreClients = "has_more_clients"
        case moreClientsCount = "more_clients_count"
        case moreClients = "more_clients"
        case attention
        case hasAttention = "has_attention"
        case attentionCount = "attention_count"
        case hasMoreAttention = "has_more_attention"
        case moreAttentionCount = "more_attention_count"
    }

    static func summaryValue(_ partner: PartnerReport, _ highlights: Lazy<PartnerHighlights>, _ name: String) -> TemplateValue? {
        SummaryField(rawValue: name).flatMap { summaryValue(partner, highlights, $0) }
    }

    static func summaryValue(_ partner: PartnerReport, _ highlights: Lazy<PartnerHighlights>, _ field: SummaryField) -> TemplateValue? {
        func rows(_ indices: [Int]) -> TemplateValue {
            table(indices, count: indices.count) { indices, index, name in
                let client = partner.clients[indices[index]]
                return ReportRenderer.clientValue(client, name) ?? ClientHighlights.value(client, name)
            }
        }
        switch field {
        case .totalSpend: return .money(partner.totals.spend)
        case .topClients: return rows(highlights.value.top)
        case .topClientsCount: return .text(String(highlights.value.top.count))
        case .hasMoreClients: return .flag(highlights.value.restCount > 0)
        case .moreClientsCount: return .text(String(highlights.value.restCount))
        case .moreClients:
            let summary = highlights.value
            return .scope(Scope { name in
                name == "spend" ? .money(summary.restSpend) : ReportRenderer.movementValue(summary.rest, name)
            })
        case .attention: return rows(highlights.value.attention)
        case .hasAttention: return .flag(highlights.value.attentionCount > 0)
        case .attentionCount: return .text(String(highlights.value.attentionCount))
        case .hasMoreAttention: return .flag(highlights.value.attentionCount > highlights.value.attention.count)
        case .moreAttentionCount: return .text(String(highlights.value.attentionCount - highlights.value.attention.count))
        }
    }

    func clientPage(_ template: Template, _ client: ClientReport, _ partner: PartnerReport, _ report: RunReport) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try clientPage(template, client, partner, report, into: &bytes)
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

    func clientPage(_ template: Template, _ client: ClientReport, _ partner: PartnerReport, _ report: RunReport,
                    into bytes: inout [UInt8]) throws {
        let maxSpend = client.services.map(\.net).max() ?? .zero
        let scope = Scope { name in
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
        try finish(template, scope, currency: report.currency, rows: client.detail.count + client.daily.count, into: &bytes)
    }
}
