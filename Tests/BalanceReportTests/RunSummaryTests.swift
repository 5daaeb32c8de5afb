@testable import BalanceTestSupport
@testable import BalancePipeline
@testable import BalanceSend
@testable import BalanceOutput
@testable import BalanceRender
@testable import BalanceReport
@testable import BalanceIngest
@testable import BalanceModel
@testable import BalanceSupport
import Testing

@Suite("Report: run summary and control totals")
struct RunSummaryTests: ModelBuilders {
    let txA = ModelTestFile.transactions
    let txB = ModelTestFile.moreTransactions
    let clientsFile = ModelTestFile.clients
    let eventsFile = ModelTestFile.events

    /// One record of every outcome, spread over four files (see the comments for what each becomes).
    func mixedExport() -> IngestedExport {
        export([
            tx("a", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "100", file: txA),                // accepted
            tx("b", "2024-03-05T10:00:00+03:00", client: "c1", .charge, service: "S", "10.5", file: txA), // accepted
            tx("c", "2024-03-25T10:00:00+03:00", client: "c1", .charge, service: "S", "7", file: txA),    // outside attachment
            tx("d", "2024-02-15T10:00:00+03:00", client: "c1", .charge, service: "S", "3", file: txA),    // outside period
            tx("e", "2024-03-05T10:00:00+03:00", client: "ghost", .charge, service: "S", "4", file: txA), // unknown client
            tx("f", "2024-04-05T10:00:00+03:00", client: "ghost", .topup, "9", file: txA),               // outside period
            tx("g", "2024-03-06T10:00:00+03:00", client: "c2", .refund, service: "S", "1.25", file: txA), // accepted
            tx("h", "2024-03-07T10:00:00+03:00", client: "c1", .charge, service: "S", "2", file: txA),    // rejected (conflict)
            tx("b", "2024-03-05T10:00:00+03:00", client: "c1", .charge, service: "S", "10.5", file: txB), // duplicate
            tx("h", "2024-03-07T10:00:00+03:00", client: "c1", .charge, service: "S", "3", file: txB),    // rejected (conflict)
        ], clients: [
            clientRecord("c1"),                                                                           // accepted
            clientRecord("c2"),                                                                           // accepted
            clientRecord("c1"),                                                                           // duplicate
        ], events: [
            ev("c1", "2024-02-01T10:00:00+03:00", .invited),                                             // accepted
            ev("c1", "2024-02-02T10:00:00+03:00", .confirmed),                                           // accepted
            ev("c1", "2024-03-20T10:00:00+03:00", .removed),                                             // accepted
            ev("c1", "2024-02-01T10:00:00+03:00", .invited),                                             // duplicate
            ev("c2", "2024-02-01T10:00:00+03:00", .invited),                                             // accepted
            ev("c2", "2024-02-02T10:00:00+03:00", .confirmed),                                           // accepted
            ev("c2", "2024-02-03T10:00:00+03:00", .unblocked),                                           // rejected (illegal)
            ev("ghost", "2024-02-01T10:00:00+03:00", .invited),                                          // unknown client
        ], rejections: [
            Rejection(source: source(txB, 20), kind: .transaction, reason: "type 'gift' is not topup, charge or refund",
                      recordID: "r1", amount: money("6")),                                               // rejected with amount
            Rejection(source: source(txB, 21), kind: .transaction, reason: "amount is empty", recordID: "r2"), // rejected, no amount
            Rejection(source: source(txA, 0), kind: nil, reason: "a problem with the whole file", isRecord: false),
        ])
    }

    func tally(_ count: Int, _ amount: String? = nil) -> Tally {
        var t = Tally()
        t.count = count
        if let amount { t.amount = money(amount) }
        return t
    }

    @Test("every input record is counted exactly once, per file")
    func everyRecordOnce() throws {
        let e = mixedExport()
        #expect(e.files.map(\.records) == [8, 3, 8, 4])
        let summary = try runReport(e).summary
        for file in summary.files {
            #expect(file.outcomes.values.reduce(0) { $0 + $1.count } == file.records, "\(file.path)")
        }
        #expect(summary.files[txA].outcomes == [
            .accepted: tally(3, "111.75"), .outsideAttachment: tally(1, "7"), .outsidePeriod: tally(2, "12"),
            .unknownClient: tally(1, "4"), .rejected: tally(1, "2"),
        ])
        #expect(summary.files[txB].outcomes == [.duplicate: tally(1, "10.5"), .rejected: tally(3, "9")])
        #expect(summary.files[clientsFile].outcomes == [.accepted: tally(2), .duplicate: tally(1)])
        #expect(summary.files[eventsFile].outcomes == [
            .accepted: tally(5), .duplicate: tally(1), .rejected: tally(1), .unknownClient: tally(1),
        ])
        #expect(summary.files[txA].problems == ["0: a problem with the whole file"])
        #expect(summary.controlFailures.isEmpty)
    }

    @Test("outcomes by record kind, with their amounts")
    func outcomeClassification() throws {
        let summary = try runReport(mixedExport()).summary
        #expect(summary.outcomes[.transaction] == [
            .accepted: tally(3, "111.75"),      // a 100 + b 10.5 + g 1.25
            .outsideAttachment: tally(1, "7"),  // c, after c1's removal
            .outsidePeriod: tally(2, "12"),     // d 3 + f 9
            .unknownClient: tally(1, "4"),      // e
            .duplicate: tally(1, "10.5"),       // b again
            .rejected: tally(4, "11"),          // h 2 + h 3 + r1 6 (+ r2 without amount)
        ])
        #expect(summary.outcomes[.client] == [.accepted: tally(2), .duplicate: tally(1)])
        #expect(summary.outcomes[.event] == [.accepted: tally(5), .duplicate: tally(1), .rejected: tally(1), .unknownClient: tally(1)])
        #expect(summary.rejectedWithoutAmount == 1)
        var accepted = KindTotals()
        accepted.topups = money("100")
        accepted.charges = money("10.5")
        accepted.refunds = money("1.25")
        #expect(summary.acceptedTotals.only == accepted)
        #expect(summary.reportedTotals.only == accepted)
        #expect(summary.hasRejections)
        // Listed in file and line order.
        #expect(summary.rejections.map(\.source) == [
            source(txA, 0), source(txA, 9), source(eventsFile, 8), source(txB, 3), source(txB, 20), source(txB, 21),
        ])
        #expect(summary.duplicates.map(\.source) == [source(clientsFile, 4), source(eventsFile, 5), source(txB, 2)])
    }

    @Test("a run without clients records counts no synthetic client record")
    func noClientRecordsCounted() throws {
        let e = export([
            tx("a", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "100"),
            tx("b", "2024-03-02T10:00:00+03:00", client: "c2", .charge, service: "S", "1"),
        ])
        let summary = try runReport(e).summary
        #expect(summary.outcomes[.client] == nil)
        #expect(summary.outcomes[.transaction] == [.accepted: tally(2, "101")])
        #expect(summary.controlFailures.isEmpty)
    }

    // MARK: control failures

    /// Builds the mixed run, lets `tamper` break p1's report, and returns the recomputed summary.
    func tampered(_ tamper: (inout [PartnerReport]) -> Void) throws -> RunSummary {
        let e = mixedExport()
        let ledger = Ledger.build(from: e)
        let period = try ReportPeriod.parse("2024-03")
        let report = ReportBuilder.build(ledger: ledger, export: e, period: period)
        #expect(report.summary.controlFailures.isEmpty)
        var partners = report.partners
        #expect(partners.map(\.partnerID) == ["p1"])
        #expect(partners.first?.clients.map(\.client.id) == ["c1", "c2"])
        tamper(&partners)
        return RunSummary.build(ledger: ledger, export: e, period: period.interval, partners: partners)
    }

    @Test("the untouched report passes every control")
    func untouched() throws {
        #expect(try tampered { _ in }.controlFailures.isEmpty)
    }

    @Test("a report missing a detail line fails the controls")
    func missingLine() throws {
        let summary = try tampered { partners in partners[0].clients[0].detail.removeLast() }
        #expect(!summary.controlFailures.isEmpty)
    }

    @Test("a detail line with another amount fails the controls")
    func changedAmount() throws {
        let summary = try tampered { partners in partners[0].clients[0].detail[1].transaction.amount = money("10.49") }
        #expect(!summary.controlFailures.isEmpty)
    }

    @Test("a report showing a transaction outside the attachment window (a leak) fails the controls")
    func leakedLine() throws {
        let summary = try tampered { partners in
            var leaked = partners[0].clients[0].detail[1]
            leaked.transaction.id = "c"
            leaked.transaction.instant = at("2024-03-25T10:00:00+03:00")
            leaked.transaction.amount = money("7")
            partners[0].clients[0].detail.append(leaked)
        }
        #expect(!summary.controlFailures.isEmpty)
    }

    @Test("a dropped client fails the controls")
    func droppedClient() throws {
        let summary = try tampered { partners in partners[0].clients.removeLast() }
        #expect(!summary.controlFailures.isEmpty)
    }

    @Test("partner totals that disagree with the detail lines fail the controls")
    func brokenPartnerTotals() throws {
        let summary = try tampered { partners in partners[0].totals.charges += money("0.000001") }
        #expect(!summary.controlFailures.isEmpty)
    }

    @Test("a client movement that disagrees with its detail lines fails the controls")
    func brokenClientMovement() throws {
        let summary = try tampered { partners in partners[0].clients[1].movement?.refunds = money("0") }
        #expect(!summary.controlFailures.isEmpty)
    }

    @Test("a closing balance that does not follow from the opening and the movements fails the controls")
    func brokenClosing() throws {
        let summary = try tampered { partners in partners[0].clients[1].movement?.closing += money("1") }
        #expect(!summary.controlFailures.isEmpty)
    }

    @Test("a running balance that does not follow from the previous line fails the controls")
    func brokenRunningBalance() throws {
        let summary = try tampered { partners in partners[0].clients[0].detail[0].balanceAfter += money("0.01") }
        #expect(!summary.controlFailures.isEmpty)
    }

    @Test("spend per service or per day that disagrees with the detail lines fails the controls")
    func brokenSpend() throws {
        let services = try tampered { partners in partners[0].clients[0].services[0].charged += money("1") }
        #expect(!services.controlFailures.isEmpty)
        let partnerServices = try tampered { partners in partners[0].services[0].refunded += money("1") }
        #expect(!partnerServices.controlFailures.isEmpty)
        let daily = try tampered { partners in partners[0].clients[0].daily[0].net += money("1") }
        #expect(!daily.controlFailures.isEmpty)
    }

    @Test("a report that is consistent in itself but lost accepted money fails the controls")
    func consistentButIncomplete() throws {
        let summary = try tampered { partners in partners.removeAll() }
        #expect(summary.controlFailures.count == 1)
        #expect(summary.controlFailures.first?.hasPrefix("the reports show") == true, "\(summary.controlFailures)")
    }

    /// A client removed and added again in the period (a gap with a hidden charge of 20), with `tamper` applied.
    func tamperedGap(_ tamper: (inout [PartnerReport]) -> Void) throws -> [String] {
        let e = export([
            tx("a", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "100"),
            tx("b", "2024-03-12T10:00:00+03:00", client: "c1", .charge, service: "S", "20"),  // hidden
            tx("c", "2024-03-25T10:00:00+03:00", client: "c1", .charge, service: "S", "5"),
        ], clients: [clientRecord("c1")], events: [
            ev("c1", "2024-02-01T10:00:00+03:00", .invited), ev("c1", "2024-02-02T10:00:00+03:00", .confirmed),
            ev("c1", "2024-03-10T00:00:00+03:00", .removed), ev("c1", "2024-03-15T00:00:00+03:00", .invited),
            ev("c1", "2024-03-16T00:00:00+03:00", .confirmed),
        ])
        let ledger = Ledger.build(from: e)
        let period = try ReportPeriod.parse("2024-03")
        var partners = ReportBuilder.build(ledger: ledger, export: e, period: period).partners
        #expect(partners[0].clients[0].gaps.count == 1)
        tamper(&partners)
        return RunSummary.build(ledger: ledger, export: e, period: period.interval, partners: partners).controlFailures
    }

    @Test("the identity opening + top-ups − charges + refunds + unattached change = closing is checked on every client and total")
    func unattachedChangeControls() throws {
        #expect(try tamperedGap { _ in }.isEmpty)
        // The unattached change left out (the 53 504,27 vs 53 754,27 of issue 10): the identity breaks.
        let dropped = try tamperedGap { $0[0].clients[0].movement?.unattachedChange = .zero; $0[0].totals.unattachedChange = .zero }
        #expect(dropped.contains { $0.contains("not the closing") }, "\(dropped)")
        // A gap row whose balance does not lead on to the next rows.
        #expect(try !tamperedGap { $0[0].clients[0].gaps[0].after += money("1") }.isEmpty)
        // A gap row that does not start where the rows before it end.
        #expect(try !tamperedGap { $0[0].clients[0].gaps[0].before += money("1") }.isEmpty)
        // The gap row missing from the page while the movement still counts it.
        #expect(try !tamperedGap { $0[0].clients[0].gaps.removeAll() }.isEmpty)
        // The gap row in the wrong place among the rows.
        #expect(try !tamperedGap { $0[0].clients[0].gaps[0].position = 0 }.isEmpty)
        // The partner's total disagreeing with its clients'.
        #expect(try !tamperedGap { $0[0].totals.unattachedChange += money("1"); $0[0].totals.closing += money("1") }.isEmpty)
    }

    @Test("a record read but never accounted for fails the controls")
    func unaccountedRecord() throws {
        var e = mixedExport()
        e.files[txA].records += 1
        let summary = try runReport(e).summary
        #expect(summary.controlFailures.count == 1)
        #expect(summary.controlFailures.first?.contains("transactions-a.csv") == true)
    }
}
