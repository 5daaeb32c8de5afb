import BalanceModel
import BalanceSupport
/// How long a client's closing balance lasts at its recent spend rate.
///
/// * The **rate** is the net spend (charges − refunds) of the last N *visible* days (SPEC §3),
///   divided by the number of visible days actually counted (`window(visible:days:)`): the Moscow
///   days that hold a moment of the client's visible window, counted back from its end, across a
///   removal and re-attachment; a day the client was attached for part of counts as a day. A
///   client attached for fewer days, or a period shorter than N, divides by the days it has.
///   The rate is kept as the exact pair `spend / days`; only its display is rounded.
/// * The **days left** are `⌊closing × days / spend⌋`, computed in integers: whole days, rounded
///   down, so "0" means less than a day.
/// * There are no days left to tell when the balance is below zero (`inDebt`), nothing was spent
///   in the window or refunds outweigh charges (`noSpend`), or the client is no longer attached at
///   the period end (`detached`: its money is no longer the partner's to watch).
public struct Runway: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        case lasts, noSpend = "no_spend", inDebt = "in_debt", detached
    }

    /// The days the rate is measured over (`--runway-days`, 7 by default).
    public static let defaultDays: Int64 = 7

    public var days: Int64
    /// Net spend of the last `days` days of the last visible interval.
    public var spend: Money
    public var state: State
    /// With `lasts`: whole days the closing balance lasts at `spend / days` a day.
    public var daysLeft: Int64?

    public init(days: Int64, spend: Money, closing: Money, attachedAtEnd: Bool) {
        let days = max(days, 1)
        self.days = days
        self.spend = spend
        if !attachedAtEnd {
            state = .detached
        } else if closing.isNegative {
            state = .inDebt
        } else if spend.picos <= 0 {
            state = .noSpend
        } else {
            state = .lasts
            // Int128 holds closing × days for any twelve-digit balance; the quotient may not fit
            // Int64 (a huge balance at a pico-unit a week), and such a runway is clamped, not a trap.
            daysLeft = Int64(clamping: closing.picos * Int128(days) / spend.picos)
        }
    }

    /// The days a runway is shown as a number of; beyond it pages say "more than a year" (CSV keeps the number).
    public static let shownDaysLimit: Int64 = 365

    /// The window the rate is measured over: the last `days` Moscow calendar days that hold a
    /// moment of `visible` (half-open intervals in time order), counted back from the end of the
    /// last one. Returns the first moment of the earliest counted day (every visible moment from
    /// there on lies in a counted day, so the rate's spend is that of the visible transactions at or
    /// after it) and the number of days counted (1…`days`; 0 when nothing is visible). Pure.
    public static func window(visible: [Interval], days: Int64) -> (from: Instant, days: Int64) {
        var counted: Int64 = 0
        var earliest: CivilDate? = nil
        for interval in visible.reversed() where interval.start < interval.end && counted < days {
            // The day of the interval's last moment: the day before when it ends at a midnight.
            var last = MoscowTime.date(of: interval.end)
            if !(MoscowTime.midnight(last) < interval.end) { last = last.adding(days: -1) }
            if let earliest, earliest.daysSinceEpoch <= last.daysSinceEpoch { last = earliest.adding(days: -1) }
            let first = MoscowTime.date(of: interval.start)
            let available = last.daysSinceEpoch - first.daysSinceEpoch + 1
            guard available > 0 else { continue }
            let take = min(available, days - counted)
            counted += take
            earliest = last.adding(days: 1 - take)
        }
        guard let earliest else { return (visible.last?.end ?? Instant(seconds: 0), 0) }
        return (MoscowTime.midnight(earliest), counted)
    }

    /// Whether pages say "more than a year" rather than the number of days.
    public var lastsMoreThanAYear: Bool { (daysLeft ?? 0) > Runway.shownDaysLimit }

    /// The daily rate for display: `spend / days` to the nearest pico-unit (halves away from zero).
    public var dailyRate: Money {
        let d = Int128(days)
        let q = spend.picos / d
        let r = spend.picos % d
        if 2 * abs(r) >= d { return Money(picos: q + (spend.picos < 0 ? -1 : 1)) }
        return Money(picos: q)
    }

    /// Whether the balance lasts fewer than `horizon` whole days: `closing × days < horizon × spend`.
    public func runsOut(within horizon: Int64) -> Bool {
        guard let daysLeft else { return false }
        return daysLeft < horizon
    }
}
