/// How long a client's closing balance lasts at its recent spend rate.
///
/// * The **rate** is the net spend (charges − refunds) of the last `days` days of the client's
///   last visible interval, divided by `days`: with a period that ends at a Moscow midnight these
///   are the last `days` Moscow days of the period. A client attached for fewer days, or a period
///   shorter than `days`, still divides by `days` (a new client is not judged on one day alone).
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
