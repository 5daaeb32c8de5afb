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
    static func input(_ path: String, records: Int) -> SummaryPart {
        var export = IngestedExport()
        export.files = [InputFile(path: path, format: .csv, kinds: [.transaction], records: records)]
        var part = SummaryPart.ofInput(export)
        // Each record of the renders below is 1.00.
        part.files[0].readAmount = "\(records).00"
        return part
    }

    static func render(_ path: String, accepted: Int, from: String = "2024-03-01", to: String = "2024-03-31",
                       currency: String = "RUB", fromData: Bool = true, partner: String = "p1") -> SummaryPart {
        SummaryPart(role: "render", periodFrom: from, periodTo: to, currency: currency, currencyFromData: fromData,
                    currencySource: "\(path):2",
                    files: [.init(path: "/tmp/set.csv", format: "csv", kinds: ["transaction"], records: 0, blankRows: 0, provenance: false, outcomes: [:]),
                            .init(path: path, format: "csv", kinds: ["transaction"], records: accepted, blankRows: 0, provenance: true,
                                  outcomes: ["accepted": .init(count: accepted, amount: "\(accepted).00")])],
                    kindOutcomes: ["transaction": ["accepted": .init(count: accepted, amount: "\(accepted).00")]],
                    accepted: ["\(accepted).00", "0.00", "0.00"], reported: ["\(accepted).00", "0.00", "0.00"],
                    rejectedWithoutAmount: 0, rejections: [], duplicates: [],
                    partners: [.init(partnerID: partner, clients: 1, totals: ["0.00", "\(accepted).00", "0.00", "0.00", "0.00", "\(accepted).00"])],
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

    @Test("parts of two periods, two currencies, a partner twice or an unnamed file are refused",
          arguments: ["period", "currency", "partner", "file"])
    func refused(_ what: String) {
        let second: SummaryPart
        switch what {
        case "period": second = Self.render("a.csv", accepted: 1, from: "2024-04-01", to: "2024-04-30", partner: "p2")
        case "currency": second = Self.render("a.csv", accepted: 1, currency: "USD", partner: "p2")
        case "partner": second = Self.render("a.csv", accepted: 1)
        default: second = Self.render("other.csv", accepted: 1, partner: "p2")
        }
        let expected = ["period": "two periods", "currency": "more than one currency", "partner": "in two parts", "file": "no input part names"][what]!
        #expect {
            _ = try SummaryMerge.merge(inputs: [Self.input("a.csv", records: 2)], renders: [Self.render("a.csv", accepted: 1), second])
        } throws: { ($0 as? Diagnostic)?.message.contains(expected) == true }
    }

    @Test("a part without transactions takes the currency of those that have them")
    func currencyFromData() throws {
        let run = try SummaryMerge.merge(inputs: [Self.input("a.csv", records: 1)],
                                         renders: [Self.render("a.csv", accepted: 0, currency: "RUB", fromData: false, partner: "p2"),
                                                   Self.render("a.csv", accepted: 1, currency: "USD")])
        #expect(run.currency == "USD")
    }
}
