@testable import BalanceTestSupport
@testable import BalancePipeline
@testable import BalanceSend
@testable import BalanceOutput
@testable import BalanceRender
@testable import BalanceReport
@testable import BalanceIngest
@testable import BalanceModel
@testable import BalanceSupport
import Foundation
import Testing

/// Spikes (`Report/Spike.swift`): a day's spend on a service of at least 1,000 and over 3× the
/// median of the 7 days before, judged only on days whose 7 days before the partner saw whole.
@Suite("Report: spikes")
struct SpikeTests: ModelBuilders {
    /// March 2024, visible whole.
    var march: [Interval] { [Interval(start: at("2024-03-01 00:00:00"), end: at("2024-04-01 00:00:00"))] }

    /// `base` a day on service S from 1 to 7 March, then `day8` on 8 March.
    func week(_ base: String, then day8: String, service: String = "S") -> [DailySpend] {
        (1...7).map { daily("2024-03-0\($0)", service, base) } + [daily("2024-03-08", service, day8)]
    }

    /// 100 a day on `service` every day of March, but `spikes` on the days they name (by date, then service).
    func steady(_ spikes: [String: String] = [:], service: String = "S") -> [DailySpend] {
        (1...31).map { d in
            let date = String(format: "2024-03-%02d", d)
            return daily(date, service, spikes[date] ?? "100")
        }
    }

    @Test("more than 3× the median and at least 1,000: exactly 3× is not a spike, a pico-unit more is")
    func threshold() throws {
        let spike = try #require(Spike.largest(daily: week("400", then: "1200.000000000001"), visible: march))
        #expect(spike == Spike(date: day("2024-03-08"), service: "S", spend: money("1200.000000000001"),
                               usual: money("400"), count: 1))
        #expect(Spike.largest(daily: week("400", then: "1200"), visible: march) == nil)
        // Below the minimum spend, however far above the median.
        #expect(Spike.largest(daily: week("1", then: "999.999999999999"), visible: march) == nil)
        #expect(Spike.largest(daily: week("0.000000000001", then: "1000"), visible: march)?.usual == Money(picos: 1))
        // A median of zero is no usual level: a quiet week, then a bill, is not a spike.
        #expect(Spike.largest(daily: week("0", then: "50000"), visible: march) == nil)
    }

    @Test("the median of seven days counts days without spend as zero, and refunds lower a day")
    func median() {
        // Used on three days of the seven: the median is zero, nothing to jump from.
        let sparse = [daily("2024-03-01", "S", "2000"), daily("2024-03-03", "S", "2000"), daily("2024-03-05", "S", "2000"),
                      daily("2024-03-08", "S", "10000")]
        #expect(Spike.largest(daily: sparse, visible: march) == nil)
        // Four days of 2,000: the median is 2,000; 6,000 is not over 6,000, a pico-unit more is.
        let busy = sparse.dropLast() + [daily("2024-03-07", "S", "2000")]
        #expect(Spike.largest(daily: busy + [daily("2024-03-08", "S", "6000")], visible: march) == nil)
        #expect(Spike.largest(daily: busy + [daily("2024-03-08", "S", "6000.000000000001")], visible: march)?.usual == money("2000"))
        // A refund day is a negative spend among the seven: 400 ×3, 500 ×3 and −100 give a median of
        // 400, so 1,400 is a spike (it would not be against the 500 a 500 day would give).
        let refunds = (1...7).map { daily("2024-03-0\($0)", "S", $0 <= 3 ? "400" : $0 <= 6 ? "500" : "-100") }
        #expect(Spike.largest(daily: refunds + [daily("2024-03-08", "S", "1400")], visible: march)?.usual == money("400"))
    }

    @Test("a day is judged only when the 7 days before it lie in one visible interval")
    func judgedDays() {
        let spend = steady(["2024-03-10": "5000", "2024-03-11": "5000"])
        // Attached at midnight of 3 March: 3–9 March seen whole, so 10 March is judged.
        let atMidnight = [Interval(start: at("2024-03-03 00:00:00"), end: at("2024-04-01 00:00:00"))]
        let both = Spike.largest(daily: spend, visible: atMidnight)
        #expect(both?.date == day("2024-03-10") && both?.count == 2)
        // A second later: 3 March was not seen whole; 11 March is the first day judged.
        let aSecondLater = [Interval(start: at("2024-03-03 00:00:01"), end: at("2024-04-01 00:00:00"))]
        let later = Spike.largest(daily: spend, visible: aSecondLater)
        #expect(later?.date == day("2024-03-11") && later?.count == 1)
        // Removed on 8 March and added again on 9 March: the days after are not judged before 16 March,
        // so spend the partner did not see never shapes the usual level.
        let gap = [Interval(start: at("2024-03-01 00:00:00"), end: at("2024-03-08 12:00:00")),
                   Interval(start: at("2024-03-09 00:00:00"), end: at("2024-04-01 00:00:00"))]
        #expect(Spike.largest(daily: spend, visible: gap) == nil)
        #expect(Spike.largest(daily: steady(["2024-03-16": "5000"]), visible: gap)?.date == day("2024-03-16"))
        // A period of one day judges nothing.
        let oneDay = [Interval(start: at("2024-03-31 00:00:00"), end: at("2024-04-01 00:00:00"))]
        #expect(Spike.largest(daily: [daily("2024-03-31", "S", "5000")], visible: oneDay) == nil)
    }

    @Test("called out once: the largest spike, ties by the earlier day then the service's bytes, with the count")
    func largest() throws {
        let daily = (steady(["2024-03-10": "4000", "2024-03-11": "4000"], service: "Alpha")
            + steady(["2024-03-10": "4000"], service: "Beta")
            + steady(["2024-03-09": "3000"], service: "Zeta"))
            .sorted { $0.date != $1.date ? $0.date < $1.date : byteOrder($0.service, $1.service) }
        let spike = try #require(Spike.largest(daily: daily, visible: march))
        #expect(spike.date == day("2024-03-10") && spike.service == "Alpha" && spike.count == 4)
        // Services are bytes: an NFD service is its own series, not the NFC one's continuation.
        let nfc = "\u{00C9}tude", nfd = "E\u{0301}tude"
        // (The NFC days come second: a table keyed by String would let them overwrite the NFD ones.)
        let lookalikes = (1...7).map { self.daily("2024-03-0\($0)", nfd, "1") }
            + (1...7).map { self.daily("2024-03-0\($0)", nfc, "1000") } + [self.daily("2024-03-08", nfd, "1000")]
        let found = try #require(Spike.largest(daily: lookalikes, visible: march))
        #expect(found.service.utf8.elementsEqual(nfd.utf8) && found.usual == money("1"))
    }

    @Test("through the report: the client's spike, the attention reason and its rank after blocked, before removed")
    func inTheReport() throws {
        var transactions = [tx("t0", "2024-03-01 09:00:00", client: "spiky", .topup, "100000"),
                            tx("u0", "2024-03-01 09:00:00", client: "bigger", .topup, "100000")]
        for d in 1...9 {
            let date = String(format: "2024-03-%02d 12:00:00", d)
            transactions.append(tx("s\(d)", date, client: "spiky", .charge, service: "VM", d == 9 ? "2000" : "100"))
            transactions.append(tx("b\(d)", date, client: "bigger", .charge, service: "VM", d == 9 ? "9000" : "100"))
        }
        transactions.append(tx("r9", "2024-03-09 13:00:00", client: "spiky", .refund, service: "VM", "500"))
        let ids = ["bigger", "blocked", "removed", "spiky"]
        let events = ids.flatMap { [ev($0, "2024-01-01 00:00:00", .invited), ev($0, "2024-01-02 00:00:00", .confirmed)] }
            + [ev("blocked", "2024-03-05 00:00:00", .blocked), ev("removed", "2024-03-06 00:00:00", .removed)]
        let run = try runReport(export(transactions, clients: ids.map { clientRecord($0) }, events: events))
        let spiky = try clientReport(run, "spiky")
        // 2,000 charged − 500 refunded on 9 March against a median of 100.
        #expect(spiky.spike == Spike(date: day("2024-03-09"), service: "VM", spend: money("1500"), usual: money("100"), count: 1))
        #expect(spiky.attention.reasons == .spendJumped)
        let p = try partner(run)
        #expect(p.attention.map { p.clients[$0].client.id } == ["blocked", "bigger", "spiky", "removed"])
    }
}
