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

@Suite("XLSX workbooks")
struct WorkbookTests {
    func render(_ extra: [String], files: [String] = Repository.sampleFiles, environment: [String: String] = [:]) throws -> (TemporaryFolder, URL) {
        let temp = try TemporaryFolder()
        let out = temp.url.appendingPathComponent("out")
        let result = try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--xlsx", "--out", out.path] + extra + files,
                                                 environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        return (temp, out)
    }

    static func partners(_ out: URL) -> [String] {
        fileTree(out).filter { $0.hasSuffix("/snapshot.xlsx") }.map { out.appendingPathComponent(String($0.dropLast("/snapshot.xlsx".count))).path }
    }

    @Test("every workbook of the sample reads back with the CSV's values and types", arguments: [
        ["--lang", "ru"], ["--lang", "en"], ["--lang", "ru", "--csv-dialect", "excel-ru"],
    ])
    func sampleWorkbooksMatchTheirCSV(_ extra: [String]) throws {
        let (temp, out) = try render(extra)
        defer { temp.cleanup() }
        let partners = WorkbookTests.partners(out)
        #expect(partners.count == 2)
        for partner in partners {
            for stem in ["snapshot", "services", "daily"] { #expect(FileManager.default.fileExists(atPath: partner + "/\(stem).xlsx")) }
        }
        let check = try PythonScript.run("check_xlsx.py", partners + ["--lang", extra[1]])
        #expect(check.status == 0, "\(check.stderr)")
    }

    /// Names and services that are formulas, control characters, a literal OOXML escape, a leading
    /// apostrophe, phone numbers, and a name longer than a cell holds: all text, none run, none altered.
    @Test func hostileTextStaysText() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let long = String(repeating: "Ж", count: 40_000)
        let people: [(String, String, String)] = [
            ("c1", "_x0041_ ООО «Ромашка»", "+1+1"), ("c2", "a\u{1}b\u{7}c", "@SUM(A1:A2)"), ("c3", "'quoted", "\tTab"),
            ("c4", long, "-2"), ("c5", "=HYPERLINK(\"http://evil.example\",\"Жми\")", "+7 (495) 123-45-67"),
        ]
        var clients = "client_id,name,email,phone,partner_id\n"
        var transactions = "id,timestamp,client_id,type,service,amount\n"
        for (index, person) in people.enumerated() {
            clients += "\(person.0),\"\(person.1.replacingOccurrences(of: "\"", with: "\"\""))\",\(person.0)@x.example,\"\(person.2)\",p\n"
            transactions += "t\(index),2024-03-02T10:00:00.123+03:00,\(person.0),topup,,100.005\n"
            transactions += "u\(index),2024-03-03T10:00:00+03:00,\(person.0),charge,\"=cmd|' /C calc'!A0\",0.004167\n"
        }
        let files = [try temp.file("clients.csv", clients), try temp.file("tx.csv", transactions)]
        let (outTemp, out) = try render([], files: files)
        defer { outTemp.cleanup() }
        let check = try PythonScript.run("check_xlsx.py", WorkbookTests.partners(out) + ["--lang", "ru"])
        #expect(check.status == 0, "\(check.stderr.prefix(2000))")
        // The checker compares with the CSV: the CSV guards these cells with an apostrophe, the workbook needs none.
        let snapshot = try String(contentsOf: out.appendingPathComponent("p/snapshot.csv"), encoding: .utf8)
        #expect(snapshot.contains("\"'+7 (495) 123-45-67\"") && snapshot.contains("\"'=HYPERLINK("))
    }

    @Test("a run of several currencies: every workbook has the currency column last, each row its entry's currency", arguments: [
        ["--lang", "ru"], ["--lang", "en"],
    ])
    func severalCurrenciesWorkbooks(_ extra: [String]) throws {
        let files = ["clients.csv", "events.csv", "transactions.csv"].map { "sample-data/currencies/" + $0 }
        let (temp, out) = try render(extra, files: files)
        defer { temp.cleanup() }
        let partners = WorkbookTests.partners(out)
        #expect(partners.count == 2)
        let check = try PythonScript.run("check_xlsx.py", partners + ["--lang", extra[1]])
        #expect(check.status == 0, "\(check.stderr)")
        let snapshot = try String(contentsOf: out.appendingPathComponent("orion/snapshot.csv"), encoding: .utf8)
        #expect(snapshot.split(separator: "\n").first?.hasSuffix(",currency") == true)
    }

    /// The checker must be able to fail: a workbook that disagrees with its CSV is caught.
    @Test func theCheckerCatchesAWorkbookThatDisagreesWithItsCSV() throws {
        let (temp, out) = try render([])
        defer { temp.cleanup() }
        let vega = out.appendingPathComponent("vega-it")
        let csv = vega.appendingPathComponent("snapshot.csv")
        let original = try String(contentsOf: csv, encoding: .utf8)
        for (from, to) in [("7919.574999", "7919.584999"),                       // an amount a kopeck off
                           ("\"'+7 (423) 231-22-33\"", "\"+7 (423) 231-22-34\""),  // a phone altered
                           ("2024-03-16T12:00:00+03:00", "2024-03-16T12:00:01+03:00")] {
            #expect(original.contains(from))
            try original.replacingOccurrences(of: from, with: to).write(to: csv, atomically: true, encoding: .utf8)
            let check = try PythonScript.run("check_xlsx.py", [vega.path, "--lang", "ru"])
            #expect(check.status != 0, "not caught: \(from) → \(to)")
        }
        try original.write(to: csv, atomically: true, encoding: .utf8)
        #expect(try PythonScript.run("check_xlsx.py", [vega.path, "--lang", "ru"]).status == 0)
    }

    @Test("two runs, in other time zones and locales, give byte-identical workbooks dated at the period end")
    func workbooksAreDeterministic() throws {
        let (tempA, a) = try render([], environment: ["TZ": "America/New_York", "LANG": "en_US.UTF-8"])
        defer { tempA.cleanup() }
        Thread.sleep(forTimeInterval: 1.1)
        let (tempB, b) = try render([], environment: ["TZ": "Asia/Tokyo", "LC_ALL": "C"])
        defer { tempB.cleanup() }
        let books = fileTree(a).filter { $0.hasSuffix(".xlsx") }
        #expect(books.count == 6)
        for book in books {
            #expect(try Data(contentsOf: a.appendingPathComponent(book)) == Data(contentsOf: b.appendingPathComponent(book)), "\(book) differs")
        }
        let created = try PythonScript.inline("""
            import sys, zipfile, re
            core = zipfile.ZipFile(sys.argv[1]).read("docProps/core.xml").decode()
            print(re.search(r"<dcterms:created[^>]*>([^<]*)<", core).group(1))
            """, [a.appendingPathComponent("vega-it/snapshot.xlsx").path])
        #expect(created.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2024-03-31T21:00:00Z")
    }

    @Test func cellTextKeepsWhatASpreadsheetWouldReadDifferently() {
        #expect(Workbook.cellText("ООО «Ромашка»") == "ООО «Ромашка»")
        #expect(Workbook.cellText("_x0041_") == "_x005F_x0041_")
        #expect(Workbook.cellText("a_x00e9_b_x12_") == "a_x005F_x00e9_b_x12_")
        #expect(Workbook.cellText("user_name@x.example") == "user_name@x.example")
        #expect(Workbook.cellText("a\u{0}b") == "a_x0000_b")
        let long = Workbook.cellText(String(repeating: "я", count: Workbook.maxText + 10))
        #expect(long.unicodeScalars.count == Workbook.maxText && long.hasSuffix("…"))
        #expect(Workbook.cellText(String(repeating: "я", count: Workbook.maxText)).unicodeScalars.count == Workbook.maxText)
    }

    @Test func amountsAreKopecksRoundedHalfAwayFromZero() throws {
        for (text, number) in [("15678.876544", 15678.88), ("-0.005", -0.01), ("0.004999", 0.0), ("2.675", 2.68), ("-1500", -1500.0)] {
            #expect(Workbook.number(try AmountParser.parse(text, mark: .point, allowNegative: true)) == number, "\(text)")
        }
    }

    /// A table longer than a sheet holds goes on to further sheets, each with the header.
    /// Issue 20: a rate under half a kopeck is not 0,00 and a runway of millions of days is not a
    /// number a person reads; the workbook says so in words, the CSV keeps the exact figures.
    @Test("the runway a person can use: words for a rate under a kopeck and a runway past a year", arguments: ["ru", "en"])
    func runwayInWords(_ lang: String) throws {
        let (temp, out) = try render(["--lang", lang])
        defer { temp.cleanup() }
        let read = try PythonScript.inline("""
            import sys, openpyxl
            sheet = openpyxl.load_workbook(sys.argv[1]).worksheets[0]
            for row in sheet.iter_rows(min_row=2, values_only=True):
                if row[0] == "cl-1001": print(repr(row[12]), repr(row[13]))
            """, [out.appendingPathComponent("alfa-cloud/snapshot.xlsx").path])
        let words = lang == "ru" ? "'< 0,01' 'больше года'" : "'< 0.01' 'more than a year'"
        #expect(read.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == words, "\(read.stdout) \(read.stderr)")
        let csv = try String(contentsOf: out.appendingPathComponent("alfa-cloud/snapshot.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").contains { $0.hasPrefix("cl-1001,") && $0.hasSuffix(",19206478") })
    }

    @Test func aLongTableContinuesOnAnotherSheet() throws {
        let table = WorkbookTable(sheet: "daily", headers: ["A", "B"], kinds: [.text, .money], rows: 5) { row, column in
            column == 0 ? .text("r\(row)") : .money(Money(micros: Int128(row) * 1_000_000))
        }
        let bytes = try Workbook.bytes(table, language: .ru, created: Instant(seconds: 0), maxRows: 3)
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let path = temp.url.appendingPathComponent("t.xlsx")
        try Data(bytes).write(to: path)
        let read = try PythonScript.inline("""
            import sys, openpyxl
            book = openpyxl.load_workbook(sys.argv[1])
            print(";".join(ws.title + ":" + ",".join(str(c.value) for row in ws.iter_rows() for c in row) for ws in book.worksheets))
            """, [path.path])
        #expect(read.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "daily:A,B,r0,0,r1,1;daily 2:A,B,r2,2,r3,3;daily 3:A,B,r4,4")
    }
}
