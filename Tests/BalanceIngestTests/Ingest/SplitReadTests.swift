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

/// A large CSV file is read in two halves on two cores. Whatever the split point (a record
/// start, or a line break inside a quoted field), the records, rejections, lines and counts
/// must be exactly those of reading the file in one go.
@Suite("Reading a CSV file in two halves")
struct SplitReadTests {
    /// Every awkward thing a half can start at: quoted line breaks (LF and CRLF), a text that
    /// looks like a header, ragged and malformed rows, blank lines, rejected values.
    static let awkward = [
        "\u{FEFF}id,timestamp,client_id,type,service,amount,currency,description",
        "t1,2024-03-01T10:00:00+03:00,c1,charge,Compute,1.50,RUB,plain",
        "t2,2024-03-01T11:00:00Z,c1,topup,,100,RUB,\"two\nlines\"",
        "t3,2024-03-02 09:00:00,c2,charge,Storage,0.000001,RUB,\"a \"\"quoted\"\"\r\nnewline, and\nid,timestamp,client_id\"",
        "",
        "t4,2024-03-02T12:00:00+05:00,c2,refund,Storage,2,RUB",
        "t5,2024-03-03T00:00:00+03:00,c1,charge,Compute,abc,RUB,bad amount",
        "t6,2024-03-03T00:00:00+03:00,c1,charge,Compute,1,RUB,x\"y",
        "t7,2024-03-04T00:00:00+03:00,c3,charge,\"Net\nwork\",3.25,RUB,\"=HYPERLINK(\"\"x\"\")\"",
        "t8,2024-03-05T23:59:59.750+03:00,c3,charge,Network,4,RUB,last",
    ]

    static func read(_ path: String, splitNear: Int?) -> IngestedExport {
        var export = IngestedExport()
        export.files.append(InputFile(path: path, format: .csv, kinds: [], records: 0))
        Ingestor.readCSV(path: path, fileIndex: 0, options: IngestOptions(), splitNear: splitNear, into: &export)
        return export
    }

    static func expectSame(_ split: IngestedExport, _ whole: IngestedExport, at offset: Int) {
        #expect(split.transactions == whole.transactions, "split near byte \(offset)")
        #expect(split.rejections == whole.rejections, "split near byte \(offset)")
        #expect(split.fileFailures == whole.fileFailures, "split near byte \(offset)")
        #expect(split.files == whole.files, "split near byte \(offset)")
    }

    @Test("split at every byte of a file with quoted line breaks, blank lines and bad rows: the same as one pass",
          arguments: ["\n", "\r\n"])
    func everySplitPoint(lineEnd: String) throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let text = SplitReadTests.awkward.joined(separator: lineEnd) + lineEnd
        let path = try scratch.write("transactions.csv", text)
        let whole = SplitReadTests.read(path, splitNear: nil)
        #expect(whole.transactions.count == 5)
        #expect(whole.rejections.map(\.recordID) == ["t4", "t5", ""])
        #expect(whole.rejections.last?.reason == "stray quote in an unquoted field")
        #expect(whole.files[0].records == 8)
        for offset in 0..<text.utf8.count {
            SplitReadTests.expectSame(SplitReadTests.read(path, splitNear: offset), whole, at: offset)
        }
    }

    @Test("an unterminated quote in the second half refuses the file with the same error and line as one pass")
    func unterminatedQuoteInTheSecondHalf() throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let text = (SplitReadTests.awkward + ["t9,2024-03-06T00:00:00+03:00,c3,charge,Network,4,RUB,\"never closed", "t10,x"])
            .joined(separator: "\n") + "\n"
        let path = try scratch.write("transactions.csv", text)
        let whole = SplitReadTests.read(path, splitNear: nil)
        #expect(whole.fileFailures.map(\.reason) == ["unterminated quoted field (the rest of the file cannot be read)"])
        #expect(whole.fileFailures.map(\.line) == [15])
        for offset in stride(from: 0, to: text.utf8.count, by: 7) {
            SplitReadTests.expectSame(SplitReadTests.read(path, splitNear: offset), whole, at: offset)
        }
    }

    @Test("a file that is only a header, split anywhere: no records, no rejections")
    func headerOnly() throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let text = IngestorTests.transactionsHeader
        let path = try scratch.write("transactions.csv", text)
        for offset in 0...text.utf8.count {
            let split = SplitReadTests.read(path, splitNear: offset)
            #expect(split.transactions.isEmpty && split.rejections.isEmpty && split.files[0].records == 0)
        }
    }
}
