import BalanceReport
import BalanceModel
import BalanceSupport
/// The template names of what Report found about a client (`ClientReport`'s facts, `Attention`,
/// `Runway`, `Spike`): Render only shows them, it decides nothing.
enum ClientHighlights {
    /// The names this adds to a client's scope: one case a template field.
    enum Field: String, CaseIterable {
        case spend
        case wentNegative = "went_negative"
        case dippedBelowZero = "dipped_below_zero"
        case lowestBalance = "lowest_balance"
        case needsAttention = "needs_attention"
        case inDebt = "in_debt"
        case runningOut = "running_out"
        case daysLeft = "days_left"
        case lessThanADay = "less_than_a_day"
        case recentSpend = "recent_spend"
        case hasRunway = "has_runway"
        case runwayWindowDays = "runway_window_days"
        case spendRateDaily = "spend_rate_daily"
        case runwayMoreThanAYear = "runway_more_than_a_year"
        case runwayDays = "runway_days"
        case runwayState = "runway_state"
        case runwayLasts = "runway_lasts"
        case runwayLessThanADay = "runway_less_than_a_day"
        case runwayNoSpend = "runway_no_spend"
        case runwayInDebt = "runway_in_debt"
        case runwayDetached = "runway_detached"
        case hasSpike = "has_spike"
        case spendJumped = "spend_jumped"
        case spikeDate = "spike_date"
        case spikeService = "spike_service"
        case spikeSpend = "spike_spend"
        case spikeUsual = "spike_usual"
        case spikeTrailingDays = "spike_trailing_days"
        case hasMoreSpikes = "has_more_spikes"
        case moreSpikeCount = "more_spike_count"
        case blockedInPeriod = "blocked_in_period"
        case blockedAt = "blocked_at"
        case unblockedInPeriod = "unblocked_in_period"
        case unblockedAt = "unblocked_at"
        case removedInPeriod = "removed_in_period"
        case removedAt = "removed_at"
        case hasUnattachedChange = "has_unattached_change"
    }

    /// The value of a template name, `nil` when it is not one of these.
    static func value(_ client: ClientReport, _ name: String) -> TemplateValue? {
        Field(rawValue: name).map { value(client, $0) }
    }

    static func value(_ client: ClientReport, _ field: Field) -> TemplateValue {
        let attention = client.attention
        switch field {
        case .spend:
            return client.spend.map { .money($0) } ?? .text("")
        case .wentNegative: return .flag(client.lowestBalance?.isNegative ?? false)
        case .dippedBelowZero: return .flag(client.dippedBelowZero)
        case .lowestBalance: return client.lowestBalance.map { .money($0) } ?? .text("")
        case .needsAttention: return .flag(attention.isNeeded)
        case .inDebt: return .flag(attention.reasons.contains(.inDebt))
        case .runningOut: return .flag(attention.reasons.contains(.runningOut))
        case .daysLeft: return .text(attention.daysLeft.map(String.init) ?? "")
        case .lessThanADay: return .flag(attention.daysLeft == 0)
        case .recentSpend: return .money(client.recentSpend)
        // The runway (`Runway`): empty columns where the money is not visible or no days are left to tell.
        case .hasRunway: return .flag(client.runway != nil)
        case .runwayWindowDays: return .text(client.runway.map { String($0.days) } ?? "")
        case .spendRateDaily: return client.runway.map { .rate($0.dailyRate) } ?? .text("")
        case .runwayMoreThanAYear: return .flag(client.runway?.lastsMoreThanAYear == true)
        case .runwayDays: return .text(client.runway?.daysLeft.map(String.init) ?? "")
        case .runwayState: return .text(client.runway?.state.rawValue ?? "")
        case .runwayLasts: return .flag(client.runway?.state == .lasts)
        case .runwayLessThanADay: return .flag(client.runway?.daysLeft == 0)
        case .runwayNoSpend: return .flag(client.runway?.state == .noSpend)
        case .runwayInDebt: return .flag(client.runway?.state == .inDebt)
        case .runwayDetached: return .flag(client.runway?.state == .detached)
        // The largest spike (`Spike`): the day, the service, its spend against the usual level.
        case .hasSpike, .spendJumped: return .flag(client.spike != nil)
        case .spikeDate: return client.spike.map { .date($0.date) } ?? .text("")
        case .spikeService: return .text(client.spike?.service ?? "")
        case .spikeSpend: return client.spike.map { .money($0.spend) } ?? .text("")
        case .spikeUsual: return client.spike.map { .money($0.usual) } ?? .text("")
        case .spikeTrailingDays: return .text(String(Spike.trailingDays))
        case .hasMoreSpikes: return .flag((client.spike?.count ?? 0) > 1)
        case .moreSpikeCount: return .text(client.spike.map { String($0.count - 1) } ?? "")
        case .blockedInPeriod: return .flag(client.blocksInPeriod.last != nil)
        case .blockedAt: return client.blocksInPeriod.last.map { .instant($0.blocked) } ?? .text("")
        case .unblockedInPeriod: return .flag(client.blocksInPeriod.last?.unblocked != nil)
        case .unblockedAt: return client.blocksInPeriod.last?.unblocked.map { .instant($0) } ?? .text("")
        case .removedInPeriod: return .flag(client.removedAt != nil)
        case .removedAt: return client.removedAt.map { .instant($0) } ?? .text("")
        case .hasUnattachedChange: return .flag(!client.gaps.isEmpty)
        }
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
