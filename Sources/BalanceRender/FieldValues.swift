import BalanceReport
import BalanceModel
import BalanceSupport
import Dispatch
import Synchronization

extension ReportRenderer {
    /// The fields of a balance movement (a client's, a partner's totals, the summary's rest).
    enum MovementField: String, CaseIterable {
        case openingBalance = "opening_balance"
        case topups
        case charges
        case refunds
        case unattachedChange = "unattached_change"
        case closingBalance = "closing_balance"
        case closingNegative = "closing_negative"
    }

    /// `balances: false` (a postpaid layout): the opening, closing and unattached figures are empty.
    static func movementValue(_ m: BalanceMovement, _ name: String, balances: Bool = true) -> TemplateValue? {
        MovementField(rawValue: name).flatMap { movementValue(m, $0, balances: balances) }
    }

    static func movementValue(_ m: BalanceMovement, _ field: MovementField, balances: Bool = true) -> TemplateValue? {
        if !balances {
            switch field {
            case .openingBalance, .unattachedChange, .closingBalance: return .text("")
            case .closingNegative: return .flag(false)
            case .topups, .charges, .refunds: break
            }
        }
        switch field {
        case .openingBalance: return .money(m.opening)
        case .topups: return .money(m.topups)
        case .charges: return .money(m.charges)
        case .refunds: return .money(m.refunds)
        case .unattachedChange: return .money(m.unattachedChange)
        case .closingBalance: return .money(m.closing)
        case .closingNegative: return .flag(m.closing.isNegative)
        }
    }

    /// The fields of a service-spend row (`client_id` only in the partner's per-client table).
    enum ServiceField: String, CaseIterable {
        case clientID = "client_id", currency, service, charged, refunded, net
        /// Bar length in percent of the largest spend, for table-cell bar charts.
        case barPercent = "bar_percent"

        /// Without `client_id` and `currency`, which a client's own tables leave to the enclosing scope.
        static let ofSpend = allCases.filter { $0 != .clientID && $0 != .currency }
    }

    static func serviceValue(_ spend: ServiceSpend, maxSpend: Money, _ field: ServiceField, clientID: String = "",
                             currency: String = "") -> TemplateValue {
        switch field {
        case .clientID: return .text(clientID)
        case .currency: return .text(currency)
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
        case clientID = "client_id", currency, date, service, net

        static let ofSpend = allCases.filter { $0 != .clientID && $0 != .currency }
    }

    static func dailyValue(_ day: DailySpend, _ field: DailyField, clientID: String = "", currency: String = "") -> TemplateValue {
        switch field {
        case .clientID: return .text(clientID)
        case .currency: return .text(currency)
        case .date: return .date(day.date)
        case .service: return .text(day.service)
        case .net: return .money(day.net)
        }
    }

    /// The fields of a client row and page: its record and its state.
    enum ClientField: String, CaseIterable {
        case clientId = "client_id"
        case clientFile = "client_file"
        case name
        case email
        case phone
        case state
        case isInvited = "is_invited"
        case isActive = "is_active"
        case isBlocked = "is_blocked"
        case isRemoved = "is_removed"
        case stateSince = "state_since"
        case hasMoney = "has_money"
        /// The currency of the row's money (a client with money in two currencies has a row per currency).
        case currency
    }

    /// A client's own fields, then its money (`MovementField`).
    static func clientValue(_ client: ClientReport, _ name: String) -> TemplateValue? {
        if let field = ClientField(rawValue: name) { return clientValue(client, field) }
        guard let field = MovementField(rawValue: name) else { return nil }
        // A client whose money the partner does not see shows empty columns, not zeros.
        guard let movement = client.movement else { return field == .closingNegative ? .flag(false) : .text("") }
        return movementValue(movement, field, balances: client.showsBalances)
    }

    static func clientValue(_ client: ClientReport, _ field: ClientField) -> TemplateValue? {
        let record = client.client
        switch field {
        case .clientId: return .text(record.id)
        case .clientFile: return .text(FileNames.safeName(for: record.id))
        case .name: return .text(record.name)
        case .email: return .text(record.email)
        case .phone: return .text(record.phone)
        case .state: return .text(client.state.rawValue)
        case .isInvited: return .flag(client.state == .invited)
        case .isActive: return .flag(client.state == .active)
        case .isBlocked: return .flag(client.state == .blocked)
        case .isRemoved: return .flag(client.state == .removed)
        case .stateSince: return client.stateSince.map { .spreadsheetInstant($0) } ?? .text("")
        case .hasMoney: return .flag(client.movement != nil)
        // A row without visible money has no currency to say (its money columns are empty too).
        case .currency: return .text(client.movement == nil ? "" : client.currency)
        }
    }

    enum DetailField: String, CaseIterable {
        case id, timestamp, type, service, amount, description
        case isTopup = "is_topup", isCharge = "is_charge", isRefund = "is_refund"
        case signedAmount = "signed_amount", balanceAfter = "balance_after", balanceNegative = "balance_negative"
        /// A gap row (`UnattachedGap`): the client detached and attached again; its two moments.
        case isUnattached = "is_unattached", unattachedFrom = "unattached_from", unattachedTo = "unattached_to"
        /// The row's currency (every row of one client entry has it): a field of the table, so a
        /// million-row detail resolves it once, not through the scopes per row.
        case currency
    }

    /// A client's detail rows: its visible transactions with, where the client was detached and
    /// attached again, one gap row between them, in time order.
    final class DetailRows {
        let detail: DetailLines
        let gaps: [UnattachedGap]
        /// The row of each gap.
        let gapRows: [Int]
        /// `false` in a postpaid layout: no running balance is shown.
        let showsBalances: Bool
        let currency: TemplateValue

        init(_ client: ClientReport) {
            showsBalances = client.showsBalances
            currency = .text(client.currency)
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
        if let gapIndex { return field == .currency ? rows.currency : gapValue(rows.gaps[gapIndex], field) }
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
        case .balanceAfter: return rows.showsBalances ? .money(detail.balanceAfter(index)) : .text("")
        case .balanceNegative: return .flag(rows.showsBalances && detail.balanceAfter(index).isNegative)
        case .description: return .text(detail.description(index))
        case .isUnattached: return .flag(false)
        case .unattachedFrom, .unattachedTo: return .text("")
        case .currency: return rows.currency
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
        case .currency: return .text("")
        }
    }
}
