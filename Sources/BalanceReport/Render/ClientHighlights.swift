/// What the partner summary calls out about a client, read from its `ClientReport` only:
///
/// * **went negative**: the balance was below zero at some moment the partner sees (the opening
///   balance or the balance after one of the visible transactions);
/// * **blocked in the period**: blocked by an event inside the period, whether still blocked at
///   its end or unblocked again (then both moments are shown); the last such block when there
///   were several;
/// * **removed in the period**: an attachment window ended inside the period (the client is
///   `removed` at the end, or was removed and added again).
struct ClientHighlights {
    /// Charges − refunds inside the visible window (zero when the money is not the partner's).
    var spend: Money = .zero
    /// The lowest balance the partner sees, `nil` when it sees none.
    var lowestBalance: Money?
    var closingBalance: Money?
    var blockedAt: Instant?
    var unblockedAt: Instant?
    var removedAt: Instant?

    var wentNegative: Bool { lowestBalance?.isNegative ?? false }
    /// Below zero at some moment, and lower then than at the period end: worth its own line
    /// (a client whose lowest balance is its closing one shows it in the closing column).
    var dippedBelowZero: Bool {
        guard let lowestBalance, let closingBalance else { return false }
        return lowestBalance.isNegative && lowestBalance < closingBalance
    }
    var needsAttention: Bool { wentNegative || blockedAt != nil || removedAt != nil }

    init(_ client: ClientReport, period: Interval) {
        if let movement = client.movement {
            spend = movement.charges - movement.refunds
            var lowest = movement.opening
            for line in client.detail where line.balanceAfter < lowest { lowest = line.balanceAfter }
            lowestBalance = lowest
            closingBalance = movement.closing
        }
        blockedAt = client.blocksInPeriod.last?.blocked
        unblockedAt = client.blocksInPeriod.last?.unblocked
        removedAt = ClientHighlights.firstRemoval(client, period: period)
    }

    /// The end of the first visible interval that ends inside the period: windows end only at a removal.
    static func firstRemoval(_ client: ClientReport, period: Interval) -> Instant? {
        client.visibleIntervals.first { $0.end < period.end }?.end
    }

    /// The names this adds to a client's scope.
    static func value(_ client: ClientReport, period: Interval, _ name: String) -> TemplateValue? {
        switch name {
        case "spend":
            return client.movement.map { .money($0.charges - $0.refunds) } ?? .text("")
        case "went_negative", "dipped_below_zero", "lowest_balance", "needs_attention":
            return ClientHighlights(client, period: period).value(name)
        case "blocked_in_period", "blocked_at", "unblocked_in_period", "unblocked_at":
            let block = client.blocksInPeriod.last
            switch name {
            case "blocked_in_period": return .flag(block != nil)
            case "blocked_at": return block.map { .instant($0.blocked) } ?? .text("")
            case "unblocked_in_period": return .flag(block?.unblocked != nil)
            default: return block?.unblocked.map { .instant($0) } ?? .text("")
            }
        case "removed_in_period", "removed_at":
            let at = firstRemoval(client, period: period)
            return name == "removed_at" ? (at.map { .instant($0) } ?? .text("")) : .flag(at != nil)
        default:
            return nil
        }
    }

    /// Names for a precomputed row (the summary's tables), so a page never scans a detail twice.
    func value(_ name: String) -> TemplateValue? {
        switch name {
        case "spend": return lowestBalance == nil ? .text("") : .money(spend)
        case "went_negative": return .flag(wentNegative)
        case "dipped_below_zero": return .flag(dippedBelowZero)
        case "lowest_balance": return lowestBalance.map { .money($0) } ?? .text("")
        case "needs_attention": return .flag(needsAttention)
        case "blocked_in_period": return .flag(blockedAt != nil)
        case "blocked_at": return blockedAt.map { .instant($0) } ?? .text("")
        case "unblocked_in_period": return .flag(unblockedAt != nil)
        case "unblocked_at": return unblockedAt.map { .instant($0) } ?? .text("")
        case "removed_in_period": return .flag(removedAt != nil)
        case "removed_at": return removedAt.map { .instant($0) } ?? .text("")
        default: return nil
        }
    }
}

/// The partner summary's selections: the clients worth a busy reader's 30 seconds.
struct PartnerHighlights {
    /// How many clients the summary lists (the largest spenders); the rest are summed up in one line.
    static let clientLimit = 50
    /// How many clients the "needs attention" call-out lists; the rest are counted.
    static let attentionLimit = 20

    let highlights: [ClientHighlights]
    /// Indices into `partner.clients`: by spend in the period, largest first, then by closing
    /// balance (largest first), then by client id; clients whose money is not visible come last.
    let top: [Int]
    /// The listed clients not in `top`, summed.
    let rest: BalanceMovement
    let restCount: Int
    let restSpend: Money
    /// Indices of the clients that need attention, most urgent first: those in debt at the period
    /// end (the largest debt on top), then those blocked or removed in the period, then those whose
    /// balance dipped below zero and recovered (the lowest dip on top); ties by client id.
    let attention: [Int]
    let attentionCount: Int

    init(_ partner: PartnerReport, period: Interval) {
        let clients = partner.clients
        let highlights = clients.map { ClientHighlights($0, period: period) }
        self.highlights = highlights
        let ranked = clients.indices.sorted { a, b in
            let (x, y) = (clients[a].movement, clients[b].movement)
            if (x == nil) != (y == nil) { return x != nil }
            if highlights[a].spend != highlights[b].spend { return highlights[b].spend < highlights[a].spend }
            if let x, let y, x.closing != y.closing { return y.closing < x.closing }
            return a < b   // clients are in client-id order
        }
        top = Array(ranked.prefix(PartnerHighlights.clientLimit))
        let others = ranked.dropFirst(PartnerHighlights.clientLimit)
        restCount = others.count
        rest = others.compactMap { clients[$0].movement }.reduce(BalanceMovement(), +)
        restSpend = rest.charges - rest.refunds
        let flagged = clients.indices.filter { highlights[$0].needsAttention }
        attentionCount = flagged.count
        func urgency(_ index: Int) -> (group: Int, amount: Money) {
            if let closing = clients[index].movement?.closing, closing.isNegative { return (0, closing) }
            if highlights[index].blockedAt != nil || highlights[index].removedAt != nil { return (1, .zero) }
            return (2, highlights[index].lowestBalance ?? .zero)
        }
        attention = Array(flagged.sorted { a, b in
            let (x, y) = (urgency(a), urgency(b))
            if x.group != y.group { return x.group < y.group }
            if x.amount != y.amount { return x.amount < y.amount }
            return a < b
        }.prefix(PartnerHighlights.attentionLimit))
    }
}

/// A value made on first use: a page computes its selections only if its template asks for them.
final class Lazy<Value> {
    private var made: Value?
    private let make: () -> Value

    init(_ make: @escaping () -> Value) { self.make = make }

    var value: Value {
        if let made { return made }
        let value = make()
        made = value
        return value
    }
}
