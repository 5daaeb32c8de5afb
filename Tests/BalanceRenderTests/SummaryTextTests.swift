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

/// The run summary on stderr reads like a report: grouped, aligned amounts, and no made-up period.
@Suite("Render: run summary text")
struct SummaryTextTests: ModelBuilders {
    @Test("amounts: rounded half away from zero to kopecks, thousands grouped, decimal comma", arguments: [
        ("310807415.365883", "310 807 415,37"), ("0", "0,00"), ("0.004999", "0,00"), ("0.005", "0,01"),
        ("999.995", "1 000,00"), ("1234.5", "1 234,50"), ("-1234.5", "-1 234,50"), ("100000", "100 000,00"),
        ("-0.004", "0,00"),
    ])
    func amounts(_ text: String, _ shown: String) {
        #expect(SummaryText.amount(money(text)) == shown)
    }

    @Test("counts grouped in threes", arguments: [(0, "0"), (999, "999"), (1000, "1 000"), (1234567, "1 234 567"), (-1000, "-1 000")])
    func counts(_ value: Int, _ shown: String) {
        #expect(Digits.grouped(Int128(value), separator: " ") == shown)
    }

    @Test("outcomes and control totals are tables: every amount grouped, right-aligned in its column")
    func aligned() throws {
        let e = export([
            tx("a", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "310807415.365883"),
            tx("b", "2024-03-02T10:00:00+03:00", client: "c1", .charge, service: "S", "12.5"),
            tx("c", "2024-04-02T10:00:00+03:00", client: "c1", .charge, service: "S", "1"),
        ], clients: [clientRecord("c1")], events: [
            ev("c1", "2024-02-01T10:00:00+03:00", .invited), ev("c1", "2024-02-02T10:00:00+03:00", .confirmed),
        ])
        let lines = SummaryText.lines(try runReport(e))
        let table = Array(lines.drop { !$0.hasPrefix("records") }.prefix(7))
        #expect(table == [
            "records               transactions     amount, RUB  clients  events",
            "  accepted                       2  310 807 427,87        1       2",
            "  duplicate                      0            0,00        0       0",
            "  rejected                       0            0,00        0       0",
            "  outside period                 1            1,00        0       0",
            "  outside attachment             0            0,00        0       0",
            "  unknown client                 0            0,00        0       0",
        ], "\(lines.joined(separator: "\n"))")
        let totals = Array(lines.drop { !$0.hasPrefix("control totals") }.prefix(3))
        #expect(totals == [
            "control totals, RUB             top-ups  charges  refunds",
            "  accepted transactions  310 807 415,37    12,50     0,00",
            "  the reports show exactly these (amounts here rounded to kopecks)",
        ], "\(lines.joined(separator: "\n"))")
        #expect(!lines.joined().contains("310807415"), "no ungrouped amount is left")
    }

    @Test("validate without a period names the span it used, and with no transaction at all no period")
    func periodOrigin() throws {
        var report = try runReport(export([], clients: [clientRecord("c1")]))
        report.periodOrigin = .none
        let none = SummaryText.lines(report)
        #expect(none.first == "period: none (no transaction was read)")
        #expect(!none.joined(separator: "\n").contains("1970"))
        report.periodOrigin = .transactions
        #expect(SummaryText.lines(report).first?.contains("the first to the last transaction") == true)
        report.periodOrigin = .given
        #expect(SummaryText.lines(report).first == "period 2024-03-01 – 2024-03-31 (Moscow time, UTC+03:00), currency RUB")
    }

    @Test("the pipeline marks where the period came from")
    func pipelineOrigin() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let clients = try temp.file("clients.csv", "client_id,name,email\nc1,One,one@example.com\n")
        let transactions = try temp.file("t.csv", "id,timestamp,client_id,type,service,amount\nt1,2024-03-05T10:00:00+03:00,c1,topup,,5\n")
        let empty = try Pipeline.analyse(AnalysisRequest(inputs: [clients], period: nil))
        #expect(empty.report.periodOrigin == .none)
        let spanned = try Pipeline.analyse(AnalysisRequest(inputs: [clients, transactions], period: nil))
        #expect(spanned.report.periodOrigin == .transactions)
        #expect(spanned.report.period.label == "2024-03-05 – 2024-03-05")
        let given = try Pipeline.analyse(AnalysisRequest(inputs: [clients, transactions], period: try ReportPeriod.parse("2024-03")))
        #expect(given.report.periodOrigin == .given)
    }
}
