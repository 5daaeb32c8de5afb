import BalanceModel
import BalanceSupport
/// A day on which a client's spend on one service jumped far above its own usual level.
///
/// The rule (docs/rules.md, "Spikes"):
///
/// * A day's spend on a service is the net (charges − refunds) of the client's visible transactions
///   of that service on that Moscow day; a day without any counts as zero.
/// * A day is *judged* only when the `trailingDays` Moscow days before it and the start of the day
///   itself lie inside one visible interval: the usual level is then made of days the partner saw
///   whole, so no money outside the attachment windows shapes what the partner is told.
/// * The usual level is the median of those `trailingDays` days' spends (seven values: the fourth
///   smallest, exact). A day is a spike when the median is above zero, and the day's spend is at
///   least `minimumSpend` and more than `factor` times that median. A median of zero (a service
///   used on fewer than four of the seven days, or not at all) is no usual level to jump from:
///   clients billed weekly or by the job would otherwise be "spiking" on every bill (on a generated
///   partner of 611 clients that flagged 465 of them).
/// * A client is called out once: for its largest spike (the largest spend; ties: the earlier day,
///   then the service's bytes), with how many spike days the period had in all.
public struct Spike: Sendable, Equatable {
    /// The days the usual level is measured over.
    public static let trailingDays: Int64 = 7
    /// How many times the usual level a day must exceed.
    public static let factor: Int128 = 3
    /// The least spend that counts as a spike: 1,000 units of the run's currency (1 000 ₽).
    public static let minimumSpend = Money(picos: 1_000 * Money.scale)

    public var date: CivilDate
    public var service: String
    /// The day's spend on the service.
    public var spend: Money
    /// The median spend of the `trailingDays` days before.
    public var usual: Money
    /// How many (day, service) spikes the client's period had; this one is the largest.
    public var count: Int

    /// The client's largest spike, or `nil` when it has none.
    ///
    /// `daily` is the client's visible spend per day and service (by date, then service), the way
    /// `ClientReport.daily` holds it; `visible` its visible intervals in time order.
    static func largest(daily: [DailySpend], visible: [Interval]) -> Spike? {
        guard daily.contains(where: { $0.net >= minimumSpend }) else { return nil }
        // Each service's spend by day number, for the look-backs.
        var byService: [ByteKey: [Int64: Money]] = [:]
        for entry in daily {
            byService[ByteKey(entry.service), default: [:]][entry.date.daysSinceEpoch] = entry.net
        }
        var best: Spike? = nil
        var count = 0
        for entry in daily where entry.net >= minimumSpend {
            let dayStart = MoscowTime.midnight(entry.date)
            let windowStart = MoscowTime.midnight(entry.date.adding(days: -trailingDays))
            guard visible.contains(where: { $0.start <= windowStart && dayStart < $0.end }) else { continue }
            let days = byService[ByteKey(entry.service)]!
            let day = entry.date.daysSinceEpoch
            let trailing = (1...trailingDays).map { days[day - $0] ?? .zero }.sorted()
            let usual = trailing[trailing.count / 2]
            guard usual.picos > 0 else { continue }
            let (limit, overflow) = usual.picos.multipliedReportingOverflow(by: factor)
            guard !overflow, entry.net.picos > limit else { continue }
            count += 1
            // `daily` runs by date, then service: the first of equal spends is the earlier one.
            if best == nil || best!.spend < entry.net {
                best = Spike(date: entry.date, service: entry.service, spend: entry.net, usual: usual, count: 0)
            }
        }
        best?.count = count
        return best
    }
}
