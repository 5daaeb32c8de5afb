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

/// Issue 4: import profiles (`--profile FILE`), the shipped sample in `sample-data/profiles/`,
/// declared timestamp layouts and decimal marks.
@Suite("Import profiles")
struct ImportProfileTests {
    static var sampleProfile: String { Repository.root.appendingPathComponent("sample-data/profiles/bank-ru.yaml").path }
    static var sampleExport: String { Repository.root.appendingPathComponent("sample-data/profiles/bank-2024-03.csv").path }

    static func instant(_ text: String) -> Instant { try! TimestampParser.parse(text) }

    @Test("the sample profile reads every key")
    func sampleProfileKeys() throws {
        let profile = try ImportProfile.load(path: Self.sampleProfile)
        #expect(profile.encoding == .windows1251)
        #expect(profile.delimiter == UInt8(ascii: ";"))
        #expect(profile.decimalMark == .comma)
        #expect(profile.inputOffsetSeconds == Int64(10_800))
        #expect(profile.timestampFormat?.pattern == "DD.MM.YYYY HH:MM")
        #expect(profile.files == ["bank-*.csv"])
        #expect(profile.columns["Дата операции"] == "timestamp")
        #expect(profile.columns["Сумма"] == "amount")
        #expect(profile.columns.count == 8)
        #expect(profile.values.transactionTypes == ["Пополнение": "topup", "Списание": "charge", "Возврат": "refund"])
        #expect(profile.values.eventTypes["Подтверждён"] == "confirmed")
        #expect(profile.values.currencies == ["руб.": "RUB", "RUR": "RUB"])
        #expect(profile.applies(to: Self.sampleExport))
        #expect(!profile.applies(to: "sample-data/transactions-2024-03.csv"))
    }

    @Test("the sample Windows-1251 export with Russian headers ingests exactly through its profile")
    func sampleExportIngests() throws {
        let profile = try ImportProfile.load(path: Self.sampleProfile)
        let options = IngestOptions(profile: profile, inputOffsetSeconds: nil, renames: [:], encoding: nil)
        let export = Ingestor.ingest(paths: [Self.sampleExport], options: options)
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        #expect(export.files.map(\.kinds) == [[.transaction]])
        let t = export.transactions
        try #require(t.count == 6)
        #expect(t.map(\.id) == ["bank-0001", "bank-0002", "bank-0003", "bank-0004", "bank-0005", "bank-0006"])
        #expect(t.map(\.kind) == [.topup, .charge, .refund, .charge, .topup, .charge])
        #expect(t.map(\.amount.micros) == [15_000_000_000, 1_234_567_891, 234_567_891, 99_990_000, 2_500_000_000, 10_000_000])
        #expect(t.map(\.currency) == Array(repeating: "RUB", count: 6))
        #expect(t.map(\.instant) == ["2024-03-04T09:15:00+03:00", "2024-03-05T23:59:00+03:00", "2024-03-06T00:00:00+03:00",
                                     "2024-03-12T10:30:00+03:00", "2024-03-31T23:59:00+03:00", "2024-04-01T00:00:00+03:00"].map(Self.instant))
        #expect(t[0].description == "Пополнение по счёту № 17")
        #expect(t[2].description == "Возврат; перерасчёт")
        #expect(t[3].description == "«Хранилище» — март")
        #expect(t[3].service == "Object Storage")
        #expect(t.map(\.source.line) == [2, 3, 4, 5, 6, 7])

        // Without the profile the same file is refused, not misread.
        let plain = Ingestor.ingest(paths: [Self.sampleExport], options: IngestOptions())
        #expect(plain.transactions.isEmpty)
        #expect(plain.fileFailures.map(\.reason) == ["the header is not valid UTF-8 (a Windows-1251 export? declare it: --encoding cp1251, or encoding: in the profile)"])
    }

    @Test("rendered with the sample data through the binary: the profile's files only, and its money in the reports")
    func sampleRendersThroughTheBinary() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out")
        let result = try BalanceReportBinary.run(["render", "--period", "2024-03", "--profile", "sample-data/profiles/bank-ru.yaml",
                                                  "--out", out.path] + Repository.sampleFiles + ["sample-data/profiles/bank-2024-03.csv"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("sample-data/profiles/bank-2024-03.csv [csv transaction]: 6 records: accepted 5, outside period 1"), "\(result.stderr)")
        let detail = try String(contentsOf: out.appendingPathComponent("alfa-cloud/clients/cl-1001.csv"), encoding: .utf8)
        #expect(detail.contains("bank-0001,2024-03-04T09:15:00+03:00,topup,,15000.00,"), "\(detail)")
        #expect(detail.contains("bank-0003,2024-03-06T00:00:00+03:00,refund,Compute Cloud,234.567891,"), "\(detail)")
        let page = try String(contentsOf: out.appendingPathComponent("alfa-cloud/clients/cl-1002.html"), encoding: .utf8)
        #expect(page.contains("«Хранилище» — март") || page.contains("Object Storage"))
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var yaml: String
        var message: String
        var testDescription: String { message }
    }

    static let bad: [Bad] = [
        Bad(yaml: "encodng: cp1251\n", message: "p.yaml:1: unknown key 'encodng' (known: description, files, encoding,"),
        Bad(yaml: "encoding: koi8-r\n", message: "p.yaml:1: encoding 'koi8-r' is not supported (utf-8 or windows-1251)"),
        Bad(yaml: "delimiter: \"|\"\n", message: "p.yaml:1: delimiter '|' is not one of"),
        Bad(yaml: "decimal_mark: \"·\"\n", message: "p.yaml:1: decimal_mark '·' is not \".\" or \",\""),
        Bad(yaml: "input_offset: MSK\n", message: "p.yaml:1: input_offset 'MSK':"),
        Bad(yaml: "timestamp_format: DD.MM.YY\n", message: "p.yaml:1: timestamp format 'DD.MM.YY': unexpected 'Y'"),
        Bad(yaml: "timestamp_format: HH:mm\n", message: "p.yaml:1: timestamp format 'HH:mm' has no YYYY"),
        Bad(yaml: "columns:\n  Сумма: amnt\n", message: "p.yaml:2: columns: 'Сумма' is renamed to 'amnt', which is no field"),
        Bad(yaml: "columns: amount\n", message: "p.yaml:1: columns takes a mapping of 'from: to' lines"),
        Bad(yaml: "transaction_types:\n  Пополнение: deposit\n", message: "p.yaml:2: transaction_types: 'deposit' is not topup, charge or refund"),
        Bad(yaml: "event_types:\n  Удалён: deleted\n", message: "p.yaml:2: event_types: 'deleted' is not invited"),
        Bad(yaml: "currencies:\n  руб.: rub\n", message: "p.yaml:2: currencies: 'rub' is not a three-letter code"),
        Bad(yaml: "transaction_types:\n  Пополнение:\n", message: "p.yaml:2: transaction_types: 'Пополнение' is renamed to nothing"),
        Bad(yaml: "encoding: utf-8\nencoding: cp1251\n", message: "p.yaml"),
        Bad(yaml: "- a\n- b\n", message: "p.yaml:1: a profile is a mapping of keys"),
        Bad(yaml: "", message: "p.yaml: the profile is empty"),
        Bad(yaml: "columns: {a: [b]}\n", message: "p.yaml:1: columns takes a single value"),
        Bad(yaml: "encoding: [utf-8\n", message: "p.yaml: not a valid YAML profile"),
        Bad(yaml: "files: []\n", message: ""),
    ]

    @Test("a profile the tool cannot use is an error naming the file, the line and the key", arguments: bad)
    func badProfiles(_ sample: Bad) {
        if sample.message.isEmpty {
            // An empty pattern list is allowed and means: every file.
            #expect((try? ImportProfile.parse(sample.yaml, path: "p.yaml"))?.applies(to: "x.csv") == true)
            return
        }
        let error = #expect(throws: ProfileError.self) { try ImportProfile.parse(sample.yaml, path: "p.yaml") }
        #expect(error?.message.hasPrefix(sample.message) == true, "message was: \(error?.message ?? "-")")
    }

    @Test("YAML type guessing never touches a value: no, on, 010, +03:00 and 1e3 stay text")
    func plainScalars() throws {
        let profile = try ImportProfile.parse("""
            input_offset: +03:00
            transaction_types:
              no: topup
              on: charge
              010: refund
            currencies:
              1e3: RUB
            """, path: "p.yaml")
        #expect(profile.inputOffsetSeconds == 10_800)
        #expect(profile.values.transactionTypes == ["no": "topup", "on": "charge", "010": "refund"])
        #expect(profile.values.currencies == ["1e3": "RUB"])
    }

    static func ingest(_ text: String, profile yaml: String, name: String = "in.csv", renames: [String: String] = [:], offset: Int64? = nil) throws -> IngestedExport {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let path = try scratch.write(name, text)
        let profile = try ImportProfile.parse(yaml, path: "p.yaml")
        return Ingestor.ingest(paths: [path], options: IngestOptions(profile: profile, inputOffsetSeconds: offset, renames: renames, encoding: nil))
    }

    @Test("value maps rename types, event types and currencies; other values pass through unchanged")
    func valueMaps() throws {
        let yaml = """
            transaction_types: {Пополнение: topup, Списание: charge}
            event_types: {Приглашён: invited, Подтверждён: confirmed}
            currencies: {руб.: RUB}
            """
        var export = try Self.ingest("id,timestamp,client_id,type,service,amount,currency\n"
            + "t1,2024-03-01 10:00:00,c1,Пополнение,,5,руб.\n"
            + "t2,2024-03-01 10:00:00,c1,charge,S,1,\n"
            + "t3,2024-03-01 10:00:00,c1,Списание,S,2,RUB\n"
            + "t4,2024-03-01 10:00:00,c1,Перевод,,2,RUB\n"
            + "t5,2024-03-01 10:00:00,c1,topup,,2,руб\n", profile: yaml)
        #expect(export.transactions.map(\.kind) == [.topup, .charge, .charge])
        #expect(export.transactions.map(\.currency) == ["RUB", "RUB", "RUB"])
        #expect(export.rejections.map(\.reason) == ["unknown type 'Перевод' (expected topup, charge or refund); an export's own type names are mapped by an import profile (--profile FILE) with transaction_types:, e.g. 'Перевод: charge'", "currency 'руб' is not a three-letter code"])
        export = try Self.ingest("client_id;timestamp;type\nc1;2024-03-01 10:00:00;Приглашён\nc1;2024-03-02 10:00:00;Подтверждён\nc1;2024-03-03 10:00:00;blocked\n", profile: yaml)
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        #expect(export.events.map(\.kind) == [.invited, .confirmed, .blocked])
    }

    @Test("the profile applies to its files only; --map and --input-offset override it")
    func scopeAndOverrides() throws {
        let yaml = "files: [\"bank-*.csv\", \"in/*.csv\"]\ncolumns: {Сумма: amount, Время: timestamp}\ninput_offset: \"+00:00\"\ndecimal_mark: \",\"\n"
        let text = "id;Время;client_id;type;service;Сумма\nt1;2024-03-01 10:00:00;c1;topup;;1,5\n"
        var export = try Self.ingest(text, profile: yaml, name: "bank-1.csv")
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        #expect(export.transactions.map(\.instant) == [Self.instant("2024-03-01T10:00:00Z")])
        #expect(export.transactions.map(\.amount.micros) == [1_500_000])
        // Another file of the run is read without the profile.
        export = try Self.ingest(text, profile: yaml, name: "other.csv")
        #expect(export.transactions.isEmpty)
        #expect(export.fileFailures.first?.reason.contains("looks like a transactions file but lacks column timestamp, amount") == true)
        // The command line wins.
        export = try Self.ingest(text.replacingOccurrences(of: "Время", with: "When"), profile: yaml, name: "bank-2.csv",
                                 renames: ["when": "timestamp"], offset: 3 * 3600)
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        #expect(export.transactions.map(\.instant) == [Self.instant("2024-03-01T10:00:00+03:00")])
    }

    @Test("a declared decimal mark is strict: ',' refuses '.', '.' refuses ',' even in ;-files")
    func declaredDecimalMark() throws {
        let text = "id;timestamp;client_id;type;service;amount\nt1;2024-03-01 10:00:00;c1;topup;;1 234,5\nt2;2024-03-01 10:00:00;c1;topup;;1.234\n"
        var export = try Self.ingest(text, profile: "decimal_mark: \",\"\n")
        #expect(export.transactions.map(\.amount.micros) == [1_234_500_000])
        #expect(export.rejections.map(\.reason) == ["amount has a '.', but the profile's decimal mark is ','"])
        export = try Self.ingest(text, profile: "decimal_mark: \".\"\n")
        #expect(export.transactions.map(\.amount.micros) == [1_234_000])
        #expect(export.rejections.map(\.reason) == ["amount has a decimal comma, but the decimal mark here is '.'"])
    }

    @Test("a declared delimiter: tab-separated exports, and ';' in a header that also has commas")
    func declaredDelimiter() throws {
        var export = try Self.ingest("id\ttimestamp\tclient_id\ttype\tservice\tamount\tdescription\nt1\t2024-03-01 10:00:00\tc1\ttopup\t\t5\ta, b; c\n", profile: "delimiter: tab\n")
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        #expect(export.transactions.map(\.description) == ["a, b; c"])
        // Seven commas against six semicolons: detection would pick ','; the declared ';' wins.
        export = try Self.ingest("id;timestamp;client_id;type;service;amount;a,b,c,d,e,f,g,h\nt1;2024-03-01 10:00:00;c1;topup;;5;x\n", profile: "delimiter: \";\"\n")
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        #expect(export.transactions.count == 1)
    }

    @Test("a declared timestamp layout: read first; ISO 8601 and Unix seconds still accepted; DD.MM.YYYY not guessed")
    func declaredTimestampFormat() throws {
        let header = "id,timestamp,client_id,type,service,amount\n"
        let export = try Self.ingest(header
            + "t1,03/01/2024 10:05,c1,topup,,1\n"          // US layout, declared
            + "t2,2024-03-01T10:05:00Z,c1,topup,,1\n"      // ISO: cannot be mistaken
            + "t3,1709287500,c1,topup,,1\n"                // Unix seconds
            + "t4,03.01.2024 10:05:00,c1,topup,,1\n"       // the built-in Russian form: not tried
            + "t5,02/30/2024 10:05,c1,topup,,1\n"          // the layout, but no such day
            + "t6,03/01/2024 24:05,c1,topup,,1\n",
            profile: "timestamp_format: \"MM/DD/YYYY HH:mm\"\n")
        #expect(export.transactions.map(\.id) == ["t1", "t2", "t3"])
        #expect(export.transactions.map(\.instant) == [Self.instant("2024-03-01T10:05:00+03:00"), Self.instant("2024-03-01T10:05:00Z"), Instant(seconds: 1_709_287_500)])
        #expect(export.rejections.map(\.reason) == [
            "timestamp does not match the profile's format MM/DD/YYYY HH:mm (nor ISO 8601 or Unix seconds)",
            "timestamp has an impossible date",
            "timestamp has an impossible time of day",
        ])
    }

    @Test("timestamp layouts: tokens, HH:MM minutes, and malformed layouts", arguments: [
        ("DD.MM.YYYY HH:MM", "05.03.2024 07:09", "2024-03-05T07:09:00+03:00"),
        ("DD.MM.YYYY HH:MM:SS", "05.03.2024 07:09:59", "2024-03-05T07:09:59+03:00"),
        ("YYYY/MM/DD HH:mm:ss", "2024/03/05 07:09:59", "2024-03-05T07:09:59+03:00"),
        ("YYYYMMDD", "20240305", "2024-03-05T00:00:00+03:00"),
        ("DD-MM-YYYYTHH:mm", "05-03-2024T23:59", "2024-03-05T23:59:00+03:00"),
        ("DD.MM.YYYY, HH:MM", "29.02.2024, 00:00", "2024-02-29T00:00:00+03:00"),
    ])
    func timestampLayouts(_ pattern: String, _ text: String, _ iso: String) throws {
        let format = try TimestampFormat(pattern)
        let instant = try text.withUTF8Bytes { (bytes) throws(FieldError) -> Instant? in try format.parse(bytes, naiveOffsetSeconds: 3 * 3600) }
        #expect(instant == Self.instant(iso))
        // One character more or less is not the layout.
        for wrong in [text + "0", String(text.dropLast()), " " + text] {
            #expect(try wrong.withUTF8Bytes { (bytes) throws(FieldError) -> Instant? in try format.parse(bytes, naiveOffsetSeconds: 0) } == nil, "\(wrong)")
        }
    }

    @Test("malformed layouts are refused", arguments: ["", "DD.MM", "MM.YYYY", "DD.MM.YYYY HH:MM:SS:SS", "DD.MM.YYYY mm", "DD.MM.YYYY HH ss", "DD.MM.YYYY hh:mm", "DD.MM.YYYY %H"])
    func malformedLayouts(_ pattern: String) {
        #expect(throws: FieldError.self) { try TimestampFormat(pattern) }
    }

    @Test("--profile and --encoding on the command line: bad values are usage errors (exit 2), a missing profile exit 1")
    func commandLine() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let bad = try temp.file("bad.yaml", "encodng: cp1251\n")
        var result = try BalanceReportBinary.run(["validate", "--profile", bad, "sample-data/clients.csv"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--profile: \(bad):1: unknown key 'encodng'"), "\(result.stderr)")
        // A missing profile fails like every missing file: exit 1, naming it.
        let missing = temp.url.appendingPathComponent("missing.yaml").path
        result = try BalanceReportBinary.run(["validate", "--profile", missing, "sample-data/clients.csv"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("--profile: \(missing): cannot open: No such file or directory"), "\(result.stderr)")
        result = try BalanceReportBinary.run(["validate", "--encoding", "koi8-r", "sample-data/clients.csv"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--encoding is utf-8 or cp1251"), "\(result.stderr)")
    }
}
