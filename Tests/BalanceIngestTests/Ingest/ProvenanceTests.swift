import Foundation
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

/// Provenance columns (`balance_report_source_file`, `balance_report_source_line`): a row cut out
/// of an original export names where it came from, and the run names it there.
@Suite("Provenance columns")
struct ProvenanceTests {
    static let header = "id,timestamp,client_id,type,service,amount,currency,description,balance_report_source_file,balance_report_source_line\n"

    @Test("records are located and counted at the original file and line the row names")
    func locatedAtOriginal() throws {
        let (export, path) = try IngestorTests.ingest("set.csv", Self.header + """
            t1,2024-03-01T10:00:00+03:00,c1,topup,,5.00,RUB,,exports/a.csv,17
            t2,2024-03-01T11:00:00+03:00,c1,topup,,6.00,RUB,,exports/b.csv.gz,4
            t3,2024-03-01T12:00:00+03:00,c1,topup,,7.00,RUB,,exports/a.csv,90

            """)
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        #expect(export.files.map(\.path) == [path, "exports/a.csv", "exports/b.csv.gz"])
        #expect(export.files.map(\.records) == [0, 2, 1])
        #expect(export.files.map(\.isProvenance) == [false, true, true])
        #expect(export.files[1].kinds == [.transaction])
        #expect(export.transactions.map { export.location($0.source) } == ["exports/a.csv:17", "exports/b.csv.gz:4", "exports/a.csv:90"])
    }

    @Test("a rejected record is reported at its original place")
    func rejectionAtOriginal() throws {
        let (export, _) = try IngestorTests.ingest("set.csv", Self.header + "t1,2024-02-30T10:00:00+03:00,c1,topup,,5.00,RUB,,exports/a.csv,17\n")
        #expect(export.rejections.map { export.location($0.source) } == ["exports/a.csv:17"])
        #expect(export.rejections.first?.amount == Money(micros: 5_000_000))
    }

    @Test("a row with empty provenance cells is the file's own; a bad line number is rejected where the row is",
          arguments: [("exports/a.csv,0", "is not a line number"), ("exports/a.csv,x7", "is not a line number"),
                      ("exports/a.csv,-3", "is not a line number"), (",12", "without balance_report_source_file"),
                      ("exports/a.csv,", "is not a line number"), ("exports/a.csv,99999999999", "is not a line number")])
    func badProvenance(_ cells: String, _ reason: String) throws {
        let (export, path) = try IngestorTests.ingest("set.csv", Self.header
            + "t1,2024-03-01T10:00:00+03:00,c1,topup,,5.00,RUB,,,\n"
            + "t2,2024-03-01T10:00:00+03:00,c1,topup,,5.00,RUB,,\(cells)\n")
        #expect(export.transactions.map { export.location($0.source) } == ["\(path):2"])
        #expect(export.rejections.map { export.location($0.source) } == ["\(path):3"])
        #expect(export.rejections.first?.reason.contains(reason) == true, "\(export.rejections)")
        #expect(export.files.count == 1 && export.files[0].records == 2)
    }

    @Test("one provenance column without the other refuses the file")
    func halfProvenanceRefused() throws {
        let (export, _) = try IngestorTests.ingest("set.csv", "id,timestamp,client_id,type,service,amount,balance_report_source_line\n"
            + "t1,2024-03-01T10:00:00+03:00,c1,topup,,5.00,3\n")
        #expect(export.fileFailures.first?.reason.contains("go together") == true, "\(export.fileFailures)")
    }

    @Test("an export without the columns is read as before: one file, its own lines")
    func plainExportUnaffected() throws {
        let (export, path) = try IngestorTests.ingest("tx.csv", IngestorTests.transactionsHeader + "t1,2024-03-01T10:00:00+03:00,c1,topup,,5.00,RUB,\n")
        #expect(export.files.count == 1 && export.files[0].records == 1 && !export.files[0].isProvenance)
        #expect(export.transactions.map { export.location($0.source) } == ["\(path):2"])
    }

    @Test("a large set is read in one go: its lines are the original ones, never renumbered as a second half's")
    func notSplitRead() throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        var text = Self.header
        for n in 1...400 { text += "t\(n),2024-03-01T10:00:00+03:00,c1,topup,,1.00,RUB,,orig.csv,\(n * 10)\n" }
        let path = try scratch.write("set.csv", text)
        var export = IngestedExport()
        Ingestor.readCSV(path: path, fileIndex: 0, options: IngestOptions(), workers: 2, splitNear: text.utf8.count / 2, into: &export)
        #expect(export.transactions.count == 400)
        #expect(export.transactions.map(\.source.line) == (1...400).map { Int32($0 * 10) })
    }

    @Test("a hostile provenance path is data: neutralised in rejects.csv, escaped in summary.json")
    func hostilePath() throws {
        let hostile = "=HYPERLINK(\"\"http://x\"\")\u{1B}[2J<b>"
        let (export, _) = try IngestorTests.ingest("set.csv", Self.header
            + "t1,2024-02-30T10:00:00+03:00,c1,topup,,5.00,RUB,,\"\(hostile)\",3\n")
        let ledger = Ledger.build(from: export)
        let report = ReportBuilder.build(ledger: ledger, export: export, period: try ReportPeriod.parse("2024-03"))
        let set = try TemplateSet(dialect: .standard, language: .ru) { TemplateFiles.builtIn(.ru).source($0) }
        let rejects = String(decoding: try ReportRenderer(templates: set, dialect: .standard).rejectsFile(report), as: UTF8.self)
        #expect(rejects.contains("\"'=HYPERLINK(\"\"http://x\"\")"), "\(rejects)")
        let summary = String(decoding: SummaryJSON.encode(report), as: UTF8.self)
        #expect(summary.contains("\\u001b[2J"), "\(summary)")
        #expect(!summary.contains("\u{1B}"))
    }
}
