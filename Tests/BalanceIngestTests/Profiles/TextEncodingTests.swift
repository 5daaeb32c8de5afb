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

/// Issue 4: UTF-8 (with or without BOM) and Windows-1251, declared or detected, never mojibake.
@Suite("Text encodings")
struct TextEncodingTests {
    static let header = "id;timestamp;client_id;type;service;amount;currency;description\r\n"

    static func cp1251(_ text: String) -> [UInt8] {
        // The test's own encoder: the inverse of the fixture Python made (see Fixtures/encodings).
        let upper = try! Array(Data(contentsOf: IngestFixtures.root.appendingPathComponent("encodings/cp1251-upper-half.bin")))
        let decoded = try! String(contentsOf: IngestFixtures.root.appendingPathComponent("encodings/cp1251-upper-half.utf8"), encoding: .utf8)
        var table: [Unicode.Scalar: UInt8] = [:]
        for (byte, scalar) in zip(upper, decoded.unicodeScalars) { table[scalar] = byte }
        return text.unicodeScalars.map { scalar in scalar.isASCII ? UInt8(scalar.value) : table[scalar]! }
    }

    static func ingest(_ bytes: [UInt8], encoding: TextEncoding, name: String = "in.csv") throws -> IngestedExport {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let path = try scratch.write(name, bytes: bytes)
        var options = IngestOptions()
        options.encoding = encoding
        return Ingestor.ingest(paths: [path], options: options)
    }

    @Test("the Windows-1251 table agrees with Python's cp1251 codec on every byte")
    func tableMatchesPython() throws {
        let input = try Array(Data(contentsOf: IngestFixtures.root.appendingPathComponent("encodings/cp1251-upper-half.bin")))
        let expected = try Array(Data(contentsOf: IngestFixtures.root.appendingPathComponent("encodings/cp1251-upper-half.utf8")))
        #expect(input.count == 127)
        #expect(Windows1251.toUTF8(input) == expected)
        let ascii = (0..<128).map(UInt8.init)
        #expect(Windows1251.toUTF8(ascii) == ascii)
        #expect(Windows1251.toUTF8([0x98]) == [0xFF], "the undefined byte never becomes text")
    }

    @Test("TextEncoding names", arguments: [("utf-8", TextEncoding.utf8), ("UTF8", .utf8), ("cp1251", .windows1251), ("Windows-1251", .windows1251), ("win-1251", .windows1251)])
    func names(_ name: String, _ encoding: TextEncoding) {
        #expect(TextEncoding.named(name) == encoding)
        #expect(TextEncoding.named("koi8-r") == nil)
    }

    static let russian = header
        + "t1;01.03.2024 10:00:00;c1;topup;;1\u{00A0}234,50;;Пополнение по счёту №5 «срочно» — ёлка\r\n"
        + "t2;01.03.2024 11:00:00;c1;charge;Облако;0,5;;\"две\r\nстроки; Ё\"\r\n"

    @Test("a Windows-1251 export reads exactly like its UTF-8 twin; its lines stay true")
    func windows1251ReadsLikeUTF8() throws {
        let utf8 = try Self.ingest(Array(Self.russian.utf8), encoding: .utf8)
        let windows = try Self.ingest(Self.cp1251(Self.russian), encoding: .windows1251)
        #expect(utf8.rejections.isEmpty && windows.rejections.isEmpty, "\(windows.rejections)")
        #expect(windows.transactions.count == 2)
        #expect(windows.transactions.map(\.description) == ["Пополнение по счёту №5 «срочно» — ёлка", "две\r\nстроки; Ё"])
        #expect(windows.transactions.map(\.service) == ["", "Облако"])
        #expect(windows.transactions.map(\.amount.micros) == [1_234_500_000, 500_000], "a Windows-1251 no-break space groups digits")
        #expect(windows.transactions.map(\.source.line) == utf8.transactions.map(\.source.line))
        #expect(windows.transactions.map(\.description) == utf8.transactions.map(\.description))
    }

    @Test("cp1251 declared: UTF-8 files (with BOM, with Cyrillic, plain ASCII) are read as UTF-8, never re-decoded",
          arguments: [true, false])
    func declaredButUTF8(bom: Bool) throws {
        let bytes = (bom ? [0xEF, 0xBB, 0xBF] : []) + Array(Self.russian.utf8)
        let export = try Self.ingest(bytes, encoding: .windows1251)
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        #expect(export.transactions.first?.description == "Пополнение по счёту №5 «срочно» — ёлка")
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let input = try EncodedCSVInput.open(path: try scratch.write("x.csv", bytes: bytes), declared: .windows1251)
        #expect(input.encoding == .utf8)
        _ = input.finish()
    }

    @Test("without a declaration a Windows-1251 file is refused with the fix, never read as mojibake")
    func undeclared() throws {
        var body = Array("id,timestamp,client_id,type,service,amount,currency,description\n".utf8)
        body += Self.cp1251("t1,2024-03-01 10:00:00,c1,topup,,5,,Пополнение\n")
        let export = try Self.ingest(body, encoding: .utf8)
        #expect(export.transactions.isEmpty)
        // The English header reads as UTF-8, the description does not, the file reads as Windows-1251:
        // refused as a whole with the fix, never rejected row by row (which --allow-rejects would drop).
        #expect(export.rejections.isEmpty)
        #expect(export.fileFailures.map(\.reason) == ["description is not valid UTF-8, and the file reads as Windows-1251: declare its encoding (--encoding cp1251, or encoding: cp1251 in the import profile) and run again"])
        #expect(export.fileFailures.map(\.line) == [2])
    }

    @Test("a byte Windows-1251 leaves undefined rejects the file at its line, before any record is read")
    func undefinedByte() throws {
        let bytes = Self.cp1251(Self.header + "t1;01.03.2024 10:00:00;c1;topup;;1;;\"a\r\nb\rc\"\r\n") + [0x98] + Array(";\r\n".utf8)
        let export = try Self.ingest(bytes, encoding: .windows1251)
        #expect(export.transactions.isEmpty)
        #expect(export.fileFailures.map(\.reason) == ["the file is neither UTF-8 nor Windows-1251: byte 0x98 is not a Windows-1251 character"])
        #expect(export.fileFailures.map(\.line) == [5])
        #expect(export.rejections.isEmpty)
    }

    @Test("a large Windows-1251 file streams through the transcoder across many 1 MiB chunks")
    func largeFile() throws {
        var text = Self.header
        for index in 0..<40_000 {
            text += "t\(index);01.03.2024 10:00:00;c\(index % 7);charge;Облако «Север»;\(index % 1000),5;;Списание № \(index) — ещё\r\n"
        }
        let bytes = Self.cp1251(text)
        #expect(bytes.count > 3 << 20)
        let export = try Self.ingest(bytes, encoding: .windows1251)
        #expect(export.rejections.isEmpty, "\(export.rejections.prefix(3))")
        #expect(export.transactions.count == 40_000)
        #expect(export.transactions.last?.description == "Списание № 39999 — ещё")
        #expect(export.transactions.last?.source.line == 40_001)
        #expect(export.transactions.allSatisfy { $0.service == "Облако «Север»" })
    }

    @Test("a reader that stops early (a record over 8 MiB) does not hang the transcoder")
    func earlyStop() throws {
        var text = Self.header + "t0;01.03.2024 10:00:00;c1;topup;;1;;\"never closed\r\n"
        for index in 0..<200_000 { text += "t\(index);01.03.2024 10:00:00;c1;topup;;1;;Пополнение\r\n" }
        let export = try Self.ingest(Self.cp1251(text), encoding: .windows1251)
        #expect(export.fileFailures.map(\.reason) == ["record is longer than 8 MiB (the rest of the file cannot be read)"])
    }

    @Test("Windows-1251 detection needs a regular file; a pipe is refused clearly")
    func pipeRefused() throws {
        #expect(throws: CSVError.self) { try EncodedCSVInput.open(path: "/dev/null", declared: .windows1251) }
        var options = IngestOptions()
        options.encoding = .windows1251
        let export = Ingestor.ingest(paths: ["/dev/null"], options: options)
        #expect(export.fileFailures.map(\.reason) == ["Windows-1251 detection needs a regular, uncompressed file, not a pipe, device or .gz"])
    }

    @Test("the encoding probe: BOM, UTF-8 validity (overlongs, surrogates, truncation), lines of 0x98", arguments: [
        ([0xEF, 0xBB, 0xBF, 0x41], true, true),
        ([0xD0, 0x9F], false, true),
        ([0xC0, 0x80], false, false),             // overlong
        ([0xED, 0xA0, 0x80], false, false),       // surrogate
        ([0xF4, 0x90, 0x80, 0x80], false, false), // beyond U+10FFFF
        ([0xE2, 0x82], false, false),             // truncated
        ([0xE2, 0x82, 0xAC], false, true),        // €
        ([0xF0, 0x9F, 0x98, 0x80], false, true),  // 😀 (0x98 inside UTF-8 is not Windows-1251's)
        ([0xCF, 0xEE], false, false),             // "По" in Windows-1251
    ] as [([UInt8], Bool, Bool)])
    func probe(_ bytes: [UInt8], _ bom: Bool, _ valid: Bool) throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let fd = open(try scratch.write("p.bin", bytes: bytes), O_RDONLY)
        defer { close(fd) }
        let probe = try EncodingProbe.scan(fd)
        #expect(probe.hasUTF8BOM == bom)
        #expect(probe.isValidUTF8 == valid)
    }
}
