import BalanceReport
import BalanceModel
import BalanceSupport
/// The template names of a comparison (`PartnerComparison`): Render only shows what Report found.
enum ComparisonValues {
    /// How many new clients and clients gone the summary page lists by name; the rest are counted.
    static let clientLimit = 10

    /// The fields of a change row (`changes.csv`, the rises and falls, a client's services then and now).
    enum ChangeField: String, CaseIterable {
        case clientID = "client_id", name, currency, service
        case previousNet = "previous_net", net, change
        case changePositive = "change_positive", changeNegative = "change_negative"
        case hasPrevious = "has_previous", hasNet = "has_net"

        /// Without `currency`, which a currency's own tables leave to the enclosing scope.
        static let ofOneCurrency = allCases.filter { $0 != .currency }
    }

    static func changeValue(_ row: ServiceChange, _ field: ChangeField, currency: String = "") -> TemplateValue {
        switch field {
        case .clientID: return .text(row.clientID)
        case .currency: return .text(currency)
        case .name: return .text(row.clientName)
        case .service: return .text(row.service)
        // Empty: the client was not listed in that period (new, or gone); zero: listed, no spend on it.
        case .previousNet: return row.previous.map { .money($0) } ?? .text("")
        case .net: return row.current.map { .money($0) } ?? .text("")
        case .change: return .money(row.change)
        case .changePositive: return .flag(row.change > .zero)
        case .changeNegative: return .flag(row.change < .zero)
        case .hasPrevious: return .flag(row.previous != nil)
        case .hasNet: return .flag(row.current != nil)
        }
    }

    static func rows(_ rows: [ServiceChange], _ indices: [Int]) -> TemplateValue {
        .table(FieldTable(indices, count: indices.count, fields: ChangeField.ofOneCurrency) { indices, index, field in
            changeValue(rows[indices[index]], field)
        })
    }

    static func slice(_ rows: ArraySlice<ServiceChange>) -> TemplateValue {
        let start = rows.startIndex
        return .table(FieldTable(rows, count: rows.count, fields: ChangeField.ofOneCurrency) { rows, index, field in
            changeValue(rows[start + index], field)
        })
    }

    static func clients(_ clients: [PeriodSpend.Client]) -> TemplateValue {
        let shown = Array(clients.prefix(clientLimit))
        return table(shown, count: shown.count) { shown, index, name in
            switch name {
            case "client_id": return .text(shown[index].id)
            case "name": return .text(shown[index].name)
            case "spend": return .money(shown[index].spend)
            case "has_money": return .flag(shown[index].moneyShown)
            default: return nil
            }
        }
    }

    /// The fields of the period compared with.
    enum PeriodField: String, CaseIterable {
        case previousFrom = "previous_from"
        case previousTo = "previous_to"
    }

    static func periodValue(_ comparison: PartnerComparison, _ name: String) -> TemplateValue? {
        PeriodField(rawValue: name).flatMap { periodValue(comparison, $0) }
    }

    static func periodValue(_ comparison: PartnerComparison, _ field: PeriodField) -> TemplateValue? {
        switch field {
        case .previousFrom: return .date(comparison.previousPeriod.firstDay)
        case .previousTo: return .date(comparison.previousPeriod.lastDay)
        }
    }

    /// The names of a partner's page: `has_comparison`, `comparison { … }` and, for `changes.csv`, `changes`.
    /// The comparison fields of a partner's page.
    enum PartnerComparisonField: String, CaseIterable {
        case hasComparison = "has_comparison"
        case changes
        case comparison
    }

    /// `changes`: every currency's rows, currency by currency (each row says its currency).
    static func partnerValue(_ partner: PartnerReport, _ name: String) -> TemplateValue? {
        guard name == PartnerComparisonField.changes.rawValue else { return nil }
        let rows = partner.currencies.flatMap { book in (book.comparison?.rows ?? []).map { (book.currency, $0) } }
        return .table(FieldTable(rows, count: rows.count, currency: { $0[$1].0 }) { rows, index, field in
            changeValue(rows[index].1, field, currency: rows[index].0)
        })
    }

    /// A currency's comparison (`PartnerCurrency.comparison`): the names of its block on the partner page.
    static func bookValue(_ book: PartnerCurrency, _ name: String) -> TemplateValue? {
        guard let field = PartnerComparisonField(rawValue: name) else { return nil }
        switch field {
        case .hasComparison: return .flag(book.comparison != nil)
        case .changes: return nil
        case .comparison:
            guard let comparison = book.comparison else { return .rows(count: 0) { _ in Scope { _ in nil } } }
            return .scope(Scope { name in
                switch name {
                case "previous_spend": return .money(comparison.previousSpend)
                case "current_spend": return .money(comparison.currentSpend)
                case "spend_change": return .money(comparison.change)
                case "spend_change_positive": return .flag(comparison.change > .zero)
                case "spend_change_negative": return .flag(comparison.change < .zero)
                case "rises": return rows(comparison.rows, comparison.rises)
                case "has_rises": return .flag(!comparison.rises.isEmpty)
                case "falls": return rows(comparison.rows, comparison.falls)
                case "has_falls": return .flag(!comparison.falls.isEmpty)
                case "new_clients": return clients(comparison.newClients)
                case "has_new_clients": return .flag(!comparison.newClients.isEmpty)
                case "new_clients_count": return .text(String(comparison.newClients.count))
                case "has_more_new_clients": return .flag(comparison.newClients.count > clientLimit)
                case "more_new_clients_count": return .text(String(max(0, comparison.newClients.count - clientLimit)))
                case "gone_clients": return clients(comparison.goneClients)
                case "has_gone_clients": return .flag(!comparison.goneClients.isEmpty)
                case "gone_clients_count": return .text(String(comparison.goneClients.count))
                case "has_more_gone_clients": return .flag(comparison.goneClients.count > clientLimit)
                case "more_gone_clients_count": return .text(String(max(0, comparison.goneClients.count - clientLimit)))
                default: return periodValue(comparison, name)
                }
            })
        }
    }

    /// The names of a client's page: `has_comparison`, `comparison { is_new, service_changes … }`.
    /// The comparison fields of a client's page.
    enum ClientComparisonField: String, CaseIterable {
        case hasComparison = "has_comparison"
        case comparison
    }

    static func clientValue(_ client: ClientReport, _ partner: PartnerReport, _ name: String) -> TemplateValue? {
        ClientComparisonField(rawValue: name).flatMap { clientValue(client, partner, $0) }
    }

    /// The comparison of the client's currency.
    static func clientValue(_ client: ClientReport, _ partner: PartnerReport, _ field: ClientComparisonField) -> TemplateValue? {
        let comparison = partner.currencies.first { $0.currency.bytesEqual(client.currency) }?.comparison
        switch field {
        case .hasComparison: return .flag(comparison != nil)
        case .comparison:
            guard let comparison else { return .rows(count: 0) { _ in Scope { _ in nil } } }
            let rows = comparison.rows(ofClient: client.client.id)
            return .scope(Scope { name in
                switch name {
                case "is_new": return .flag(comparison.isNew(client.client.id))
                case "service_changes": return slice(rows)
                case "has_service_changes": return .flag(!rows.isEmpty)
                default: return periodValue(comparison, name)
                }
            })
        }
    }
}
