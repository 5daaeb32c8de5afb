import Foundation
import Testing
@testable import BalanceTestSupport

/// Issue 20: a finance team's own files, run as a new user runs them. Every message says what to do,
/// nothing drops money quietly, every number on a page makes sense. Snapshot-style: the messages
/// are compared as the binary prints them.
@Suite("First contact (issue 20)")
struct FirstContactTests {
    static let header = "id,timestamp,client_id,type,service,amount,currency,description\n"

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    static func cp1251(_ text: String) -> [UInt8] {
        // The few Cyrillic letters these tests use, as Windows-1251 encodes them.
        let table: [Character: UInt8] = ["П": 0xCF, "о": 0xEE, "п": 0xEF, "л": 0xEB, "н": 0xED, "е": 0xE5, "и": 0xE8, "с": 0xF1,
                                         "ч": 0xF7, "ё": 0xB8, "т": 0xF2, "а": 0xE0]
        var bytes: [UInt8] = []
        for character in text {
            if let byte = table[character] { bytes.append(byte) } else { bytes += Array(String(character).utf8) }
        }
        return bytes
    }

    static func write(_ temp: TemporaryFolder, _ name: String, _ bytes: [UInt8]) throws -> String {
        let path = temp.url.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func python(_ script: String, _ arguments: [String]) throws -> CommandResult {
        try PythonScript.inline(script, arguments)
    }

    // MARK: 1. Encodings

    @Test("1. a Windows-1251 export with an English header is refused with --encoding cp1251, never 'use --allow-rejects'")
    func windows1251WithAnEnglishHeader() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let file = try Self.write(temp, "tx-1251.csv", Array(Self.header.utf8)
            + Self.cp1251("t1,2024-03-01 10:00:00,c1,topup,,5100.50,RUB,Пополнение счёта\n")
            + Array("t2,2024-03-02 10:00:00,c1,charge,CDN,1.00,RUB,plain\n".utf8))
        let out = temp.url.appendingPathComponent("out").path
        for extra in [[], ["--allow-rejects"]] {
            let result = try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--out", out] + extra + [file])
            #expect(result.status == 1)
            #expect(Self.lines(result.stderr) == [
                "balance-report: error: \(file):2: description is not valid UTF-8, and the file reads as Windows-1251: declare its encoding (--encoding cp1251, or encoding: cp1251 in the import profile) and run again",
                "balance-report: error: 1 input file(s) cannot be read, so the run stops: a file is read whole or not at all, also with --allow-rejects",
                "",
            ], "\(result.stderr)")
            #expect(!result.stderr.contains("use --allow-rejects"))
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        // The fix the message names works, and keeps the money.
        let fixed = try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--encoding", "cp1251", "--out", out, file])
        #expect(fixed.status == 0, "\(fixed.stderr)")
        let detail = try String(contentsOfFile: out + "/default/clients/c1.csv", encoding: .utf8)
        #expect(detail.contains("t1,2024-03-01T10:00:00+03:00,topup,,5100.50,5100.50"), "\(detail)")

        // Bytes that are neither UTF-8 nor Windows-1251 (0x98) stay rejected records; the closing
        // line says to fix the encoding, and does not offer --allow-rejects.
        let neither = try Self.write(temp, "neither.csv", Array((Self.header + "t1,2024-03-01 10:00:00,c1,topup,,5,RUB,").utf8) + [0x98, 0x0A])
        let rejected = try BalanceReportBinary.run(["render", "--period", "2024-03", "--out", out + "2", neither])
        #expect(rejected.status == 1)
        #expect(rejected.stderr.contains("\(neither):2: description is not valid UTF-8\n"), "\(rejected.stderr)")
        #expect(rejected.stderr.hasSuffix("balance-report: error: 1 rejected record(s), 1 of them with text that is not UTF-8; no report written: give the file in UTF-8, or declare its encoding (--encoding cp1251 for Windows-1251)\n"), "\(rejected.stderr)")
        #expect(!rejected.stderr.contains("--allow-rejects"))
    }

    // MARK: 2. Unknown clients

    @Test("2. unknown clients are named: unknown-clients.csv, summary.json and the stderr summary")
    func unknownClientsAreNamed() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out")
        let result = try BalanceReportBinary.run(["render", "--period", "2024-03", "--out", out.path] + Repository.sampleFiles)
        #expect(result.status == 0, "\(result.stderr)")
        let csv = try String(contentsOf: out.appendingPathComponent("unknown-clients.csv"), encoding: .utf8)
        #expect(csv == "client_id,currency,transactions,amount,first_file,first_line\n"
                + "cl-9999,RUB,2,742.42,sample-data/transactions-2024-03.csv,37\n")
        #expect(result.stderr.contains("""
            unknown clients (in no report; all 1 in unknown-clients.csv and summary.json):
              cl-9999: 2 transaction(s), 742,42 RUB, first at sample-data/transactions-2024-03.csv:37
            """), "\(result.stderr)")
        let summary = try String(contentsOf: out.appendingPathComponent("summary.json"), encoding: .utf8)
        #expect(summary.contains("""
              "unknown_clients": [
                {
                  "client_id": "cl-9999",
                  "currency": "RUB",
                  "transactions": 2,
                  "amount": "742.42",
                  "first": "sample-data/transactions-2024-03.csv:37"
                }
              ],
            """), "\(summary)")
        // Published like every other file: the marker lists it.
        let marker = try String(contentsOf: out.appendingPathComponent(".balance-report-output"), encoding: .utf8)
        #expect(marker.contains("unknown-clients.csv"))

        // Without unknown clients no such file, and an empty list.
        let clean = temp.url.appendingPathComponent("clean")
        let tx = try temp.file("t.csv", Self.header + "t1,2024-03-02 10:00:00,c1,topup,,10,,\n")
        #expect(try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--out", clean.path, tx]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: clean.appendingPathComponent("unknown-clients.csv").path))
        #expect(try String(contentsOf: clean.appendingPathComponent("summary.json"), encoding: .utf8).contains("\"unknown_clients\": []"))
    }

    // MARK: 3. Kinds of export

    @Test("3. a header is placed by the fields only one kind has; the message says what is missing and what to do")
    func kindsOfExport() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let advice = "rename the export's columns with --map 'COLUMN=FIELD' (repeatable), or read its layout through an import profile (--profile FILE, or a built-in one: balance-report profiles)"
        let sum = try temp.file("sum.csv", "id,timestamp,client_id,type,service,sum,currency,description\nt1,2024-03-01 10:00:00,c1,charge,CDN,5,RUB,\n")
        let sumRun = try BalanceReportBinary.run(["validate", sum])
        #expect(sumRun.status == 1)
        #expect(Self.lines(sumRun.stderr).first == "balance-report: error: \(sum):1: the header (id,timestamp,client_id,type,service,sum,currency,description) looks like a transactions file but lacks column amount (a transactions file needs id, timestamp, client_id, type, amount); \(advice)", "\(sumRun.stderr)")
        #expect(!sumRun.stderr.contains("unknown event type"))

        let excel = try temp.file("excel.csv", "Номер,Дата операции,Клиент,Тип,Услуга,Сумма\nt1,01.03.2024 10:00:00,c1,Списание,CDN,5\n")
        let excelRun = try BalanceReportBinary.run(["validate", excel])
        #expect(excelRun.status == 1)
        #expect(Self.lines(excelRun.stderr).first == "balance-report: error: \(excel):1: cannot tell the kind of export from the header (Номер,Дата операции,Клиент,Тип,Услуга,Сумма): a transactions file needs id, timestamp, client_id, type, amount; a clients file needs client_id, email; an events file needs client_id, timestamp, type; \(advice)", "\(excelRun.stderr)")

        let mapped = try BalanceReportBinary.run(["validate", "--map", "Номер=id", "--map", "Дата операции=timestamp", "--map", "Клиент=client_id",
                                                  "--map", "Тип=type", "--map", "Услуга=service", "--map", "Сумма=amount", excel])
        #expect(mapped.status == 1)
        #expect(mapped.stderr.contains("\(excel):2: unknown type 'Списание' (expected topup, charge or refund); an export's own type names are mapped by an import profile (--profile FILE) with transaction_types:, e.g. 'Списание: charge'\n"), "\(mapped.stderr)")

        // An events file is still an events file; a clients file lacking email says so.
        let events = try temp.file("events.csv", "client_id,timestamp,type\nc1,2024-03-01 10:00:00,invited\n")
        #expect(try BalanceReportBinary.run(["validate", events]).status == 0)
        let clients = try temp.file("clients.csv", "client_id,name,phone\nc1,C,1\n")
        let clientsRun = try BalanceReportBinary.run(["validate", clients])
        #expect(clientsRun.stderr.contains("\(clients):1: the header (client_id,name,phone) looks like a clients file but lacks column email (a clients file needs client_id, email); \(advice)"), "\(clientsRun.stderr)")
    }

    // MARK: 4. Typos in options

    @Test("4. an unknown option is named first, with argument-parser's 'did you mean'", arguments: [
        (["render", "--peroid", "2024-03", "--out", "o", "a.csv"], "Error: Unknown option '--peroid'. Did you mean '--period'?"),
        (["render", "--period", "2024-03", "--outt", "o", "a.csv"], "Error: Unknown option '--outt'. Did you mean '--out'?"),
        (["render", "--period", "2024-03", "-o", "o", "a.csv"], "Error: Unknown option '-o'"),
        (["validate", "--peroid", "2024-03"], "Error: Unknown option '--peroid'. Did you mean '--period'?"),
        (["render", "--period", "2024-03", "a.csv"], "Error: Missing expected argument '--out <out>': the folder the reports are written to"),
        (["render", "--out", "o", "a.csv"], "Error: give --period or --from and --to"),
    ])
    func unknownOptionsFirst(_ arguments: [String], _ first: String) throws {
        let result = try BalanceReportBinary.run(arguments)
        #expect(result.status == 2)
        let lines = Self.lines(result.stderr)
        #expect(lines.first == first, "\(result.stderr)")
        #expect(lines.contains("  See 'balance-report \(arguments[0]) --help' for more information."), "\(result.stderr)")
        // --help is still help, whatever is missing.
        #expect(try BalanceReportBinary.run([arguments[0], "--help"]).status == 0)
    }

    // MARK: 5. Empty periods

    @Test("5. a period with nothing in it warns with the days the inputs hold; --fail-on-empty fails")
    func emptyPeriod() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out")
        let warning = "the period 2023-01-01 – 2023-01-31 holds none of the 74 transaction(s) read: they fall on 2024-02-01 to 2024-04-01 (Moscow days), so every report of this period is empty"
        let warned = try BalanceReportBinary.run(["render", "--period", "2023-01", "--out", out.path] + Repository.sampleFiles)
        #expect(warned.status == 0, "\(warned.stderr)")
        #expect(warned.stderr.contains("balance-report: warning: \(warning) (--fail-on-empty makes this an error)\n"), "\(warned.stderr)")
        let failed = try BalanceReportBinary.run(["render", "--period", "2023-01", "--fail-on-empty", "--out", temp.url.appendingPathComponent("o2").path] + Repository.sampleFiles)
        #expect(failed.status == 1)
        #expect(failed.stderr.hasSuffix("balance-report: error: \(warning); no report written (--fail-on-empty)\n"), "\(failed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: temp.url.appendingPathComponent("o2").path))
        // A period with transactions says nothing of the kind.
        let normal = try BalanceReportBinary.run(["render", "--period", "2024-03", "--fail-on-empty", "--out", temp.url.appendingPathComponent("o3").path] + Repository.sampleFiles)
        #expect(normal.status == 0 && !normal.stderr.contains("warning"), "\(normal.stderr)")
    }

    // MARK: 6. Runway numbers on pages (the rule itself: RunwayTests)

    @Test("6. cl-1001's page says 'less than 0,01 ₽' and 'more than a year'; snapshot.csv keeps the exact figures")
    func runwayOnThePage() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out")
        #expect(try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--out", out.path] + Repository.sampleFiles).status == 0)
        let page = try String(contentsOf: out.appendingPathComponent("alfa-cloud/clients/cl-1001.html"), encoding: .utf8)
        #expect(page.contains("Расход в день: <span style=\"white-space:nowrap;\">меньше 0,01\u{00A0}₽</span> за последние 7 дн. При таком расходе баланса хватит больше чем на год."))
        #expect(!page.contains("19206478") && !page.contains("0,000595285714"))
        let snapshot = try String(contentsOf: out.appendingPathComponent("alfa-cloud/snapshot.csv"), encoding: .utf8)
        #expect(snapshot.contains(",11433.342086,0.000595285714,19206478\n"))
    }

    // MARK: 7. Russian workbook, excel-ru state_since

    @Test("7. the Russian workbook says активен, отключён; excel-ru state_since is DD.MM.YYYY HH:MM:SS")
    func russianSpreadsheets() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out")
        let run = try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--xlsx", "--csv-dialect", "excel-ru", "--out", out.path] + Repository.sampleFiles)
        #expect(run.status == 0, "\(run.stderr)")
        let states = try Self.python("""
            import sys, openpyxl
            sheet = openpyxl.load_workbook(sys.argv[1]).active
            print("\\n".join(sorted({row[4] for row in sheet.iter_rows(min_row=2, values_only=True)})))
            """, [out.appendingPathComponent("alfa-cloud/snapshot.xlsx").path])
        #expect(states.status == 0, "\(states.stderr)")
        #expect(Set(states.stdout.split(separator: "\n").map(String.init)).isSubset(of: ["приглашён", "активен", "заблокирован", "отключён"]))
        #expect(states.stdout.contains("активен") && !states.stdout.contains("active"), "\(states.stdout)")
        let csv = try String(contentsOf: out.appendingPathComponent("alfa-cloud/snapshot.csv"), encoding: .utf8)
        #expect(csv.contains("cl-1001;ООО «Ромашка»;info@romashka.example;\"'+7 (495) 123-45-67\";active;16.01.2024 11:30:00;"), "\(csv)")
        // Only in that dialect.
        let standard = temp.url.appendingPathComponent("standard")
        #expect(try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--out", standard.path] + Repository.sampleFiles).status == 0)
        #expect(try String(contentsOf: standard.appendingPathComponent("alfa-cloud/snapshot.csv"), encoding: .utf8).contains(",active,2024-01-16T11:30:00+03:00,"))
    }

    // MARK: 8. Links

    @Test("8. the folder's pages link to each other with relative links that resolve; the e-mail body has none and names its attachments")
    func linkedFolder() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out")
        let run = try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--eml", "--out", out.path] + Repository.sampleFiles)
        #expect(run.status == 0, "\(run.stderr)")
        let partner = out.appendingPathComponent("alfa-cloud")
        func hrefs(_ file: String) throws -> [String] {
            let html = try String(contentsOf: partner.appendingPathComponent(file), encoding: .utf8)
            return html.matches(of: /<a href="([^"]*)"/).map { String($0.output.1) }
        }
        let index = try hrefs("index.html")
        #expect(index.contains("snapshot.html") && index.contains("clients/cl-1001.html"), "\(index)")
        let snapshot = try hrefs("snapshot.html")
        #expect(snapshot.first == "index.html")
        let listed = try FileManager.default.contentsOfDirectory(atPath: partner.appendingPathComponent("clients").path).filter { $0.hasSuffix(".html") }
        #expect(Set(snapshot.dropFirst()) == Set(listed.map { "clients/" + $0 }), "every client page, from the snapshot")
        #expect(try hrefs("clients/cl-1001.html") == ["../index.html", "../snapshot.html"])
        for (page, links) in [("index.html", index), ("snapshot.html", snapshot), ("clients/cl-1001.html", try hrefs("clients/cl-1001.html"))] {
            for link in links {
                #expect(!link.contains(":") && !link.hasPrefix("/"), "\(page): \(link) is not relative")
                let target = partner.appendingPathComponent(page).deletingLastPathComponent().appendingPathComponent(link).standardizedFileURL
                #expect(FileManager.default.fileExists(atPath: target.path), "\(page): \(link) leads nowhere")
                #expect(target.path.hasPrefix(out.standardizedFileURL.path + "/"), "\(page): \(link) leaves the folder")
            }
        }
        // check_eml.py compares the body with index.html, links aside, and checks it names each attachment.
        let eml = try EMLCheck.run(partner, to: [], lang: "ru")
        #expect(eml.status == 0, "\(eml.stdout)\(eml.stderr)")
    }

    // MARK: 9. Smaller

    @Test("9. the README names what the tests need, how to get Swift 6, apt-get update and bash-completion")
    func readme() throws {
        let readme = try String(contentsOf: Repository.root.appendingPathComponent("README.md"), encoding: .utf8)
        for needed in ["`aiosmtpd`", "`msmtp`", "apt-get update", "swift.org/install", "`bash-completion`"] {
            #expect(readme.contains(needed), "README lacks \(needed)")
        }
    }

    @Test("9. help: --runway-days says its default once; no empty line in the root help; templates export names every file; scale.md is a file of the sources")
    func helpTexts() throws {
        let render = try BalanceReportBinary.run(["render", "--help"]).stdout
        let flat = render.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(flat.contains("divided by the days counted. (default: 7)"), "\(flat)")
        #expect(!flat.contains("(default 7)"))
        #expect(flat.contains("--fail-on-empty"))
        let root = try BalanceReportBinary.run(["--help"]).stdout
        let discussion = Self.lines(root).drop { !$0.contains("Exit codes") }.prefix { !$0.contains("balance-report send out --dry-run") }
        #expect(!discussion.isEmpty && !discussion.contains(""), "an empty line renders as 'Empty input line' in the man page: \(root)")
        #expect(root.split(whereSeparator: \.isWhitespace).joined(separator: " ").contains("(the Spark route: docs/scale.md in the balance-report sources)"))
        let export = try BalanceReportBinary.run(["templates", "export", "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(export.contains("(index.html.mustache, snapshot.html.mustache, client.html.mustache, client.csv.mustache, services.csv.mustache, daily.csv.mustache, snapshot.csv.mustache, rejects.csv.mustache, changes.csv.mustache, unknown-clients.csv.mustache, invoices.csv.mustache, email.txt.mustache)"), "\(export)")
        #expect(!export.contains("…"))
    }

    @Test("9. validate with rejected records ends with an error line")
    func validateClosingLine() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let bad = try temp.file("bad.csv", Self.header + "t1,2024-03-02 10:00:00,c1,gift,,1,,\n")
        let result = try BalanceReportBinary.run(["validate", bad])
        #expect(result.status == 1)
        #expect(result.stderr.hasSuffix("\(bad):2: unknown type 'gift' (expected topup, charge or refund); an export's own type names are mapped by an import profile (--profile FILE) with transaction_types:, e.g. 'gift: charge'\nbalance-report: error: 1 rejected record(s); the inputs do not validate\n"), "\(result.stderr)")
    }

    @Test("9. a client name with a line break stays on its line of the plain-text e-mail")
    func nameWithALineBreak() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let clients = try temp.file("clients.csv", "client_id,name,email,partner_id\nc1,\"Two\nlines\",c@example.com,p\n")
        let tx = try temp.file("t.csv", Self.header + "t1,2024-03-02 10:00:00,c1,topup,,10,,\nt2,2024-03-03 10:00:00,c1,charge,CDN,19.5,,\n")
        let out = temp.url.appendingPathComponent("out")
        let run = try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--eml", "--lang", "en", "--out", out.path, clients, tx])
        #expect(run.status == 0, "\(run.stderr)")
        let text = try Self.python("""
            import sys, email, email.policy
            message = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
            print(message.get_body(preferencelist=("plain",)).get_content())
            """, [out.appendingPathComponent("p/report.eml").path])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("Two lines"), "\(text.stdout)")
        #expect(!Self.lines(text.stdout).contains { $0.hasPrefix("lines") }, "\(text.stdout)")
    }
}
