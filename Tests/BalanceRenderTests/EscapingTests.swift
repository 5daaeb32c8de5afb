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

@Suite struct EscapingTests {
    /// HOSTILE-CHECKLIST #1: formula injection is neutralised, numbers are not.
    @Test(arguments: [
        ("=1+1", "\"'=1+1\""),
        ("+x", "\"'+x\""),
        ("-x", "\"'-x\""),
        ("@x", "\"'@x\""),
        ("\tx", "\"'\tx\""),
        ("\rx", "\"'\rx\""),
        ("\nx", "\"'\nx\""),
        ("\0x", "\"'\0x\""),
        ("=HYPERLINK(\"http://e/x\",\"Жми\")", "\"'=HYPERLINK(\"\"http://e/x\"\",\"\"Жми\"\")\""),
        ("+7 (495) 123-45-67", "\"'+7 (495) 123-45-67\""),
        ("-1500.00", "-1500.00"),
        ("-0.004167", "-0.004167"),
        ("-", "\"'-\""),
        ("-1+1", "\"'-1+1\""),
        ("-2+3+cmd|' /C calc'!A0", "\"'-2+3+cmd|' /C calc'!A0\""),
        ("1500", "1500"),
        ("plain", "plain"),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("two\nlines", "\"two\nlines\""),
        ("", ""),
    ])
    func standardCells(input: String, expected: String) {
        #expect(Escaping.csvCell(input) == expected)
    }

    @Test func excelCellsQuoteSemicolonsAndKeepDecimalCommaNumbers() {
        #expect(Escaping.csvCell("-1500,00", dialect: .excelRU) == "-1500,00")
        #expect(Escaping.csvCell("a;b", dialect: .excelRU) == "\"a;b\"")
        #expect(Escaping.csvCell("a,b", dialect: .excelRU) == "a,b")
        #expect(Escaping.csvCell("-1,5,5", dialect: .excelRU) == "\"'-1,5,5\"")
    }

    @Test func htmlEscapesEveryMarkupCharacter() {
        #expect(Escaping.html("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;")
        #expect(Escaping.html("\" onmouseover=\"x") == "&quot; onmouseover=&quot;x")
        #expect(Escaping.html("R&D 'lab'") == "R&amp;D &#39;lab&#39;")
        #expect(Escaping.html("Ромашка «ООО»") == "Ромашка «ООО»")
    }

    /// HOSTILE-CHECKLIST #2: random rows with quotes, separators, CR, LF, BOM and Cyrillic
    /// written as CSV read back equal, with the header's column count.
    @Test(arguments: CSVDialect.allCases)
    func writtenCellsReadBackEqual(dialect: CSVDialect) throws {
        var generator = SplitMix64(seed: 7)
        let alphabet: [String] = ["a", "Я", "\"", ",", ";", "\r", "\n", "\r\n", "\u{FEFF}", " ", "=", "-", "1", "'", "\t"]
        var rows: [[String]] = []
        for _ in 0..<300 {
            rows.append((0..<4).map { _ in
                (0..<Int(generator.next() % 8)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }.joined()
            })
        }
        var bytes: [UInt8] = Array("c1,c2,c3,c4".replacingOccurrences(of: ",", with: String(dialect.separator)).utf8) + [0x0A]
        let separator = UInt8(ascii: dialect.separator.unicodeScalars.first!)
        for row in rows {
            for (index, cell) in row.enumerated() {
                if index > 0 { bytes.append(separator) }
                Escaping.appendCSVCell(cell, separator: separator, to: &bytes)
            }
            bytes.append(contentsOf: dialect.lineEnd.utf8)
        }
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let path = temp.url.appendingPathComponent("round-trip.csv").path
        try writeBytes(bytes, to: path)
        var reader = try CSVReader(path: path)
        defer { reader.close() }
        var read: [[String]] = []
        try reader.read(onRow: { row in
            read.append((0..<row.count).map { row.string($0) ?? "<invalid>" })
        }, onMalformed: { error in Issue.record("malformed at \(error.line): \(error.reason)") })
        let expected = rows.map { row in row.map { cell in
            // Neutralised cells come back with their leading quote mark.
            let first = cell.utf8.first
            let formula = first.map { [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D, 0x0A].contains($0) } ?? false
            return formula && !Escaping.isPlainNumber(cell.utf8) ? "'" + cell : cell
        } }
        #expect(read.first == ["c1", "c2", "c3", "c4"])
        #expect(read.dropFirst().allSatisfy { $0.count == 4 })
        // A row whose every cell is empty is a blank line to a reader; such rows carry no data.
        let nonBlank = expected.filter { $0 != ["", "", "", ""] && !($0.count == 1) }
        #expect(Array(read.dropFirst()) == nonBlank)
    }
}

