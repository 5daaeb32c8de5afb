import BalanceReport
import BalanceModel
import BalanceSupport
/// The template names of what Report found about a client (`ClientReport`'s facts, `Attention`,
/// `Runway`, `Spike`): Render only shows them, it decides nothing.
enum ClientHighlights {
    /// The names this adds to a client's scope.
    static func value(_ client: ClientReport, _ name: String) -> TemplateValue? {
        let attention = client.attention
        switch name {
        case "spend":
            return client.spend.map { .money($0) } ?? .text("")
        case "went_negative": return .flag(client.lowestBalance?.isNegative ?? false)
        case "dipped_below_zero": return .flag(client.dippedBelowZero)
        case "lowest_balance": return client.lowestBalance.map { .money($0) } ?? .text("")
        case "needs_attention": return .flag(attention.isNeeded)
        case "in_debt": return .flag(attention.reasons.contains(.inDebt))
        case "running_out": return .flag(attention.reasons.contains(.runningOut))
        case "days_left": return .text(attention.daysLeft.map(String.init) ?? "")
        case "less_than_a_day": return .flag(attention.daysLeft == 0)
        case "recent_spend": return .money(client.recentSpend)
        // The runway (`Runway`): empty columns where the money is not visible or no days are left to tell.
        case "has_runway": return .flag(client.runway != nil)
        case "runway_window_days": return .text(client.runway.map { String($0.days) } ?? "")
        case "spend_rate_daily": return client.runway.map { .rate($0.dailyRate) } ?? .text("")
        case "runway_more_than_a_year": return .flag(client.runway?.lastsMoreThanAYear == true)
        case "runway_days": return .text(client.runway?.daysLeft.map(String.init) ?? "")
        case "runway_state": return .text(client.runway?.state.rawValue ?? "")
        case "runway_lasts": return .flag(client.runway?.state == .lasts)
        case "runway_less_than_a_day": return .flag(client.runway?.daysLeft == 0)
        case "runway_no_spend": return .flag(client.runway?.state == .noSpend)
        case "runway_in_debt": return .flag(client.runway?.state == .inDebt)
        case "runway_detached": return .flag(client.runway?.state == .detached)
        // The largest spike (`Spike`): the day, the service, its spend against the usual level.
        case "has_spike", "spend_jumped": return .flag(client.spike != nil)
        case "spike_date": return client.spike.map { .date($0.date) } ?? .text("")
        case "spike_service": return .text(client.spike?.service ?? "")
        case "spike_spend": return client.spike.map { .money($0.spend) } ?? .text("")
        case "spike_usual": return client.spike.map { .money($0.usual) } ?? .text("")
        case "spike_trailing_days": return .text(String(Spike.trailingDays))
        case "has_more_spikes": return .flag((client.spike?.count ?? 0) > 1)
        case "more_spike_count": return .text(client.spike.map { String($0.count - 1) } ?? "")
        case "blocked_in_period", "blocked_at", "unblocked_in_period", "unblocked_at":
            let block = client.blocksInPeriod.last
            switch name {
            case "blocked_in_period": return .flag(block != nil)
            case "blocked_at": return block.map { .instant($0.blocked) } ?? .text("")
            case "unblocked_in_period": return .flag(block?.unblocked != nil)
            default: return block?.unblocked.map { .instant($0) } ?? .text("")
            }
        case "removed_in_period": return .flag(client.removedAt != nil)
        case "removed_at": return client.removedAt.map { .instant($0) } ?? .text("")
        case "has_unattached_change": return .flag(!client.gaps.isEmpty)
        default:
            return nil
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
