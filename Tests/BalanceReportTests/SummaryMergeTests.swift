import Testing
@testable import BalanceTestSupport
@testable import BalancePipeline
@testable import BalanceSend
@testable import BalanceOutput
@testable import BalanceRender
@testable import BalanceReport
@testable import BalanceIngest
@testable import BalanceModel
@testable import BalanceSupport

/// `SummaryMerge`: parts of one run only, and the figures added up as one run counts them.
@Suite("Summary merge")
struct SummaryMergeTests {
    static func input(_ path: String, records: Int, currencies: [String] = ["RUB"]) -> SummaryPart {
        var export = IngestedExport()
        export.files = [InputFile(path: path, format: .csv, kinds: [.transaction], records: records)]
        var part = SummaryPart.ofInput(export)
        // Each record of the renders below is 1.00.
        part.files[0].readAmounts = [currencies[0]: "\(records).00"]
        part.currencies = currencies
        return part
    }

    static func render(_ path: String, accepted: Int, from: String = "2024-03-01", to: String = "2024-03-31",
                       currency: String = "RUB", currencies: [String]? = nil, partner: String = "p1") -> SummaryPart {
        SummaryPart(role: "render", periodFrom: from, periodTo: to, currencies: currencies ?? [currency],
                    files: [.init(path: "/tmp/set.csv", format: "csv", kinds: ["transaction"], records: 0, blankRows: 0, provenance: false, outcomes: [:]),
                            .init(path: path, format: "csv", kinds: ["transaction"], records: accepted, blankRows: 0, provenance: true,
                                  outcomes: ["accepted": .init(count: accepted, amounts: [currency: "\(accepted).00"])])],
                    kindOutcomes: ["transaction": ["accepted": .init(count: accepted, amounts: [currency: "\(accepted).00"])]],
                    accepted: [currency: ["\(accepted).00", "0.00", "0.00"]], reported: [currency: ["\(accepted).00", "0.00", "0.00"]],
                    rejectedWithoutAmount: 0, rejections: [], duplicates: [],
                    partners: [.init(partnerID: partner, clients: 1, totals: [currency: ["0.00", "\(accepted).00", "0.00", "0.00", "0.00", "\(accepted).00"]])],
                    reconciliationFailures: [], output: "/tmp/out-\(partner)")
    }

    @Test("counts of two partners' parts on one original file add up; files keep the inputs' order")
    func addsUp() throws {
        let run = try SummaryMerge.merge(inputs: [Self.input("b.csv", records: 5), Self.input("a.csv", records: 1)],
                                         renders: [Self.render("b.csv", accepted: 3, partner: "p2"), Self.render("b.csv", accepted: 2),
                                                   Self.render("a.csv", accepted: 1, partner: "p3")])
        #expect(run.summary.files.map(\.path) == ["b.csv", "a.csv"])
        #expect(run.summary.files[0].outcomes[.accepted]?.count == 5)
        #expect(run.summary.controlFailures.isEmpty, "\(run.summary.controlFailures)")
        #expect(run.partners.map(\.partnerID) == ["p1", "p2", "p3"])
        #expect(run.summary.acceptedTotals.only.topups == Money(micros: 6_000_000))
    }

    @Test("a record not accounted for fails the control totals")
    func missingPart() throws {
        let run = try SummaryMerge.merge(inputs: [Self.input("a.csv", records: 5)], renders: [Self.render("a.csv", accepted: 3)])
        #expect(run.summary.controlFailures == ["a.csv: 5 records read but 3 accounted for"])
    }

    @Test("parts of two periods, a set not rendered in the run's currencies, a partner twice or an unnamed file are refused",
          arguments: ["period", "currency", "partner", "file"])
    func refused(_ what: String) {
        let second: SummaryPart
        switch what {
        case "period": second = Self.render("a.csv", accepted: 1, from: "2024-04-01", to: "2024-04-30", partner: "p2")
        case "currency": second = Self.render("a.csv", accepted: 1, currency: "USD", partner: "p2")
        case "partner": second = Self.render("a.csv", accepted: 1)
        default: second = Self.render("other.csv", accepted: 1, partner: "p2")
        }
        let expected = ["period": "two periods", "currency": "render every set with --run-currencies RUB,USD", "partner": "in two parts", "file": "no input part names"][what]!
        #expect {
            _ = try SummaryMerge.merge(inputs: [Self.input("a.csv", records: 2)], renders: [Self.render("a.csv", accepted: 1), second])
        } throws: { ($0 as? Diagnostic)?.message.contains(expected) == true }
    }

    @Test("parts of two currencies merge per currency: tallies, control totals and partner totals, never one sum")
    func twoCurrencies() throws {
        let both = ["RUB", "USD"]
        let run = try SummaryMerge.merge(inputs: [Self.input("a.csv", records: 3, currencies: both)],
                                         renders: [Self.render("a.csv", accepted: 1, currency: "RUB", currencies: both, partner: "p2"),
                                                   Self.render("a.csv", accepted: 2, currency: "USD", currencies: both)])
        #expect(run.currencies == both)
        #expect(run.summary.acceptedTotals["RUB"]?.topups == Money(micros: 1_000_000))
        #expect(run.summary.acceptedTotals["USD"]?.topups == Money(micros: 2_000_000))
        #expect(run.summary.outcomes[.transaction]?[.accepted]?.amounts.currencies == both)
        #expect(run.partners.map { $0.totals.currencies } == [["USD"], ["RUB"]])
        // The input part read 3.00 in RUB: the parts account for 1.00 RUB and 2.00 USD.
        #expect(run.summary.controlFailures.contains { $0.contains("a.csv: its records amount to 3.00 RUB") }, "\(run.summary.controlFailures)")
    }
}
