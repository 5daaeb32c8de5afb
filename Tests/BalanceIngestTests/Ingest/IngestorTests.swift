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

/// The Ingest stage end to end: files in, typed records and `file:line: reason` rejections out.
@Suite("Ingestor")
struct IngestorTests {
    static let transactionsHeader = "id,timestamp,client_id,type,service,amount,currency,description\n"

    /// Writes the files, ingests them in order, and removes them again.
    static func ingest(_ files: [(name: String, bytes: [UInt8])], options: IngestOptions = IngestOptions()) throws -> (export: IngestedExport, paths: [String]) {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let paths = try files.map { try scratch.write($0.name, bytes: $0.bytes) }
        return (Ingestor.ingest(paths: paths, options: options), paths)
    }

    static func ingest(_ name: String, _ text: String, options: IngestOptions = IngestOptions()) throws -> (export: IngestedExport, path: String) {
        let result = try ingest([(name, Array(text.utf8))], options: options)
        return (result.export, result.paths[0])
    }

    static func micros(_ text: String) -> Int128 {
        (try? AmountParser.parse(text, mark: .point).micros) ?? -1
    }

    // MARK: kinds and headers

    @Test("the kind of a CSV file is detected from its header", arguments: [
        ("id,timestamp,client_id,type,service,amount\nt1,2024-03-01 10:00:00,c1,topup,,5\n", RecordKind.transaction),
        ("client_id,name,email,phone,partner_id,balance,balance_at\nc1,N,a@b.c,,,,\n", .client),
        ("client_id;timestamp;type\nc1;2024-03-01 10:00:00;confirmed\n", .event),
        // Order, case and surrounding spaces of header names do not matter; extra columns are ignored.
        (" Amount ,ID,Client_ID,TYPE,timestamp,extra\n5,t1,c1,topup,2024-03-01 10:00:00,x\n", .transaction),
        ("email,client_id\na@b.c,c1\n", .client),
    ])
    func kindDetection(_ text: String, _ kind: RecordKind) throws {
        let (export, _) = try Self.ingest("in.csv", text)
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        #expect(export.files.map(\.kinds) == [[kind]])
        #expect(export.files.map(\.format) == [.csv])
        #expect(export.files.map(\.records) == [1])
        #expect(export.transactions.count == (kind == .transaction ? 1 : 0))
        #expect(export.clients.count == (kind == .client ? 1 : 0))
        #expect(export.events.count == (kind == .event ? 1 : 0))
    }

    @Test("an unknown header is a file-level rejection")
    func unknownHeader() throws {
        let (export, path) = try Self.ingest("odd.csv", "foo,bar\n1,2\n3,4\n")
        #expect(export.rejections.isEmpty)
        try #require(export.fileFailures.count == 1)
        let failure = export.fileFailures[0]
        #expect(failure.line == 1)
        #expect(failure.reason.contains("cannot tell the kind of export"))
        #expect(failure.reason.contains("foo,bar"))
        #expect(export.describe(failure).hasPrefix("\(path):1: "))
        #expect(export.files[0].kinds.isEmpty)
        #expect(export.transactions.isEmpty && export.clients.isEmpty && export.events.isEmpty)
    }

    @Test("a missing required column is a file-level rejection naming it")
    func missingColumn() throws {
        var (export, _) = try Self.ingest("tx.csv", "id,client_id,type,amount\nt1,c1,topup,5\n")
        try #require(export.fileFailures.count == 1)
        #expect(export.fileFailures[0].reason.hasPrefix("missing column timestamp (a transactions file needs id, timestamp, client_id, type, amount); rename"))
        #expect(export.transactions.isEmpty && export.rejections.isEmpty)
        (export, _) = try Self.ingest("tx.csv", "id,amount,service\nt1,5,\n")
        #expect(export.fileFailures.map { $0.reason.prefix(41) } == ["missing column timestamp, client_id, type"])
    }

    @Test("an empty file is a file-level rejection", arguments: ["", "\n", "\r\n\r\n", "\u{FEFF}"])
    func emptyFile(_ text: String) throws {
        let (export, path) = try Self.ingest("empty.csv", text)
        try #require(export.fileFailures.count == 1)
        #expect(export.rejections.isEmpty)
        #expect(export.fileFailures[0].reason.contains("empty"))
        #expect(export.describe(export.fileFailures[0]) == "\(path): the file is empty: no header, so it is not an export")
        #expect(export.files[0].records == 0)
    }

    @Test("a header-only file is accepted with 0 records")
    func headerOnly() throws {
        let (export, _) = try Self.ingest("tx.csv", Self.transactionsHeader)
        #expect(export.rejections.isEmpty)
        #expect(export.files.map(\.kinds) == [[.transaction]])
        #expect(export.files.map(\.records) == [0])
        #expect(export.transactions.isEmpty)
    }

    @Test("a file-level error is reported once, not also as an empty file")
    func fileErrorReportedOnce() throws {
        // An unterminated quote inside the header line.
        var (export, _) = try Self.ingest("broken.csv", "id,\"timestamp,client_id\n")
        #expect(export.fileFailures.count == 1, "\(export.fileFailures)")
        #expect(export.fileFailures.first?.reason.contains("unterminated") == true)
        #expect(export.fileFailures.first?.line == 1)
        // A folder is named as one, not "read failed: Is a directory", and has no line.
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        export = Ingestor.ingest(paths: [scratch.url.path], options: IngestOptions())
        #expect(export.fileFailures.count == 1, "\(export.fileFailures)")
        #expect(export.fileFailures.first?.reason.contains("is a folder") == true)
        #expect(export.fileFailures.first?.line == nil)
        #expect(export.rejections.isEmpty)
        // A missing file.
        export = Ingestor.ingest(paths: [scratch.url.appendingPathComponent("missing.csv").path], options: IngestOptions())
        #expect(export.fileFailures.count == 1, "\(export.fileFailures)")
        #expect(export.fileFailures.first?.reason.contains("cannot open") == true)
        #expect(export.rejections.isEmpty)
    }

    @Test("a malformed header line is a file-level rejection; no data row is taken for the header")
    func malformedHeader() throws {
        let text = "id,timestamp,client_id,type,\"amount\"x\nt1,2024-03-01 10:00:00,c1,topup,5\nt2,2024-03-01 10:00:00,c1,topup,6\n"
        let (export, path) = try Self.ingest("tx.csv", text)
        #expect(export.transactions.isEmpty && export.rejections.isEmpty)
        try #require(export.fileFailures.count == 1, "\(export.fileFailures)")
        #expect(export.describe(export.fileFailures[0]).hasPrefix("\(path):1: "))
        #expect(export.fileFailures[0].reason.contains("header"))
        #expect(export.fileFailures[0].reason.contains("after a closing quote"))
    }

    @Test("a CSV named by a pipe path (as `<(…)` gives) is read whole")
    func pipePath() throws {
        var text = Self.transactionsHeader
        for index in 0..<200 { text += "t\(index),2024-03-01 10:00:00,c1,topup,,\(index + 1),,\n" }
        let bytes = Array(text.utf8)
        try #require(bytes.count < 60_000, "must fit in the pipe buffer")
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let wrote = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1])
        try #require(wrote == bytes.count)
        let export = Ingestor.ingest(paths: ["/dev/fd/\(fds[0])"], options: IngestOptions())
        #expect(export.rejections.isEmpty, "\(export.rejections.prefix(3))")
        #expect(export.files.map(\.format) == [.csv])
        #expect(export.transactions.count == 200)
        #expect(export.transactions.first?.id == "t0")
        #expect(export.transactions.first?.source.line == 2)
    }

    // MARK: records

    @Test("a ragged row is rejected with file:line and the field counts")
    func raggedRow() throws {
        let text = Self.transactionsHeader
            + "t1,2024-03-01 10:00:00,c1,topup,,5,RUB,\n"
            + "t2,2024-03-01 10:00:00,c1,topup,,5\n"
            + "t3,2024-03-01 10:00:00,c1,topup,,5,RUB,,extra\n"
            + "t4,2024-03-01 10:00:00,c1,topup,,6,,\n"
        let (export, path) = try Self.ingest("tx.csv", text)
        #expect(export.transactions.map(\.id) == ["t1", "t4"])
        #expect(export.rejections.map { export.location($0.source) } == ["\(path):3", "\(path):4"])
        #expect(export.rejections.map(\.reason) == ["expected 8 fields, found 6", "expected 8 fields, found 9"])
        #expect(export.rejections.map(\.recordID) == ["t2", "t3"])
        #expect(export.rejections.allSatisfy { $0.isRecord && $0.kind == .transaction })
        #expect(export.files[0].records == 4)
    }

    @Test("a decimal comma is read in ;-files and rejected in ,-files")
    func decimalComma() throws {
        var (export, _) = try Self.ingest("ru.csv", "id;timestamp;client_id;type;service;amount\nt1;01.03.2024 10:00:00;c1;charge;CDN;1 234,50\nt2;01.03.2024 10:00:00;c1;charge;CDN;0,004167\nt3;01.03.2024 10:00:00;c1;topup;;12.5\n")
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        #expect(export.transactions.map(\.amount.micros) == [1_234_500_000, 4_167, 12_500_000])

        (export, _) = try Self.ingest("en.csv", "id,timestamp,client_id,type,service,amount\nt1,2024-03-01 10:00:00,c1,charge,CDN,\"1234,50\"\nt2,2024-03-01 10:00:00,c1,charge,CDN,1234.50\n")
        #expect(export.transactions.map(\.id) == ["t2"])
        try #require(export.rejections.count == 1)
        #expect(export.rejections[0].source.line == 2)
        #expect(export.rejections[0].reason.contains("amount"))
        #expect(export.rejections[0].amount == nil)
    }

    @Test("a header mapping renames Russian headers")
    func russianHeaderMapping() throws {
        let mapping = HeaderMapping(["Номер": "id", "Время": "timestamp", "Клиент": "client_id", "Тип": "type",
                                     "Услуга": "service", "Сумма": "amount", "Валюта": "currency", "Комментарий": "description"])
        let text = "\u{FEFF}Номер;Время;Клиент;Тип;Услуга;Сумма;Валюта;Комментарий\r\nt1;01.03.2024 10:00:00;c1;charge;Compute Cloud;1 234,56;RUB;первая\r\n"
        var (export, _) = try Self.ingest("ru.csv", text, options: IngestOptions(mapping: mapping))
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        try #require(export.transactions.count == 1)
        let transaction = export.transactions[0]
        #expect(transaction.id == "t1")
        #expect(transaction.service == "Compute Cloud")
        #expect(transaction.amount.micros == 1_234_560_000)
        #expect(transaction.description == "первая")
        let tenMoscow = try TimestampParser.parse("2024-03-01T07:00:00Z")
        #expect(transaction.instant == tenMoscow)
        // Without the mapping the file is not recognised.
        (export, _) = try Self.ingest("ru.csv", text)
        #expect(export.transactions.isEmpty)
        #expect(export.fileFailures.count == 1)
        // Mapping keys match whatever the case and spaces of the header.
        (export, _) = try Self.ingest("ru.csv", "НОМЕР ; время;Клиент;ТИП;услуга; сумма\nt2;01.03.2024 10:00:00;c1;topup;;5\n", options: IngestOptions(mapping: mapping))
        #expect(export.transactions.map(\.id) == ["t2"])
    }

    @Test("invalid UTF-8 in a field is a rejection naming the field", arguments: [
        ("description", "t1,2024-03-01 10:00:00,c1,charge,CDN,5,RUB,", ""),
        ("service", "t1,2024-03-01 10:00:00,c1,charge,", ",5,RUB,x"),
        ("client_id", "t1,2024-03-01 10:00:00,", ",charge,CDN,5,RUB,x"),
        ("id", "", ",2024-03-01 10:00:00,c1,charge,CDN,5,RUB,x"),
    ])
    func invalidUTF8(_ field: String, _ before: String, _ after: String) throws {
        // 0x98 is no Windows-1251 character: the file is neither encoding, and the record is rejected
        // (a file that reads as Windows-1251 is refused as a whole: TextEncodingTests, issue 20).
        let bytes = Array((Self.transactionsHeader + before).utf8) + [0xC3, 0x28, 0x98] + Array((after + "\n").utf8)
        let export = try Self.ingest([("tx.csv", bytes)]).export
        #expect(export.transactions.isEmpty)
        try #require(export.rejections.count == 1)
        #expect(export.rejections[0].reason == "\(field) is not valid UTF-8")
        #expect(export.rejections[0].source.line == 2)
        #expect(export.rejections[0].isRecord)
        // The amount is still good for the control totals.
        #expect(export.rejections[0].amount?.micros == 5_000_000)
    }

    @Test("invalid UTF-8 in the header is a file-level rejection")
    func invalidUTF8Header() throws {
        let bytes = Array("id,timestamp,client_id,type,amount,".utf8) + [0xFF] + Array("\nt1,2024-03-01 10:00:00,c1,topup,5,x\n".utf8)
        let export = try Self.ingest([("tx.csv", bytes)]).export
        // The reason names the likely cause and the fix (import profiles, issue 4).
        #expect(export.fileFailures.map(\.reason) == ["the header is not valid UTF-8 (a Windows-1251 export? declare it: --encoding cp1251, or encoding: in the profile)"])
        #expect(export.rejections.isEmpty)
        #expect(export.transactions.isEmpty)
    }

    struct BadTransaction: Sendable, CustomTestStringConvertible {
        var row: String
        var reason: String
        /// The amount the rejection must keep for the control totals (`nil`: unreadable).
        var amount: String?
        /// The currency of that amount.
        var currency = "RUB"
        var testDescription: String { row }
    }

    static let badTransactions: [BadTransaction] = [
        BadTransaction(row: "t1,2024-03-01 10:00:00,c1,payment,,5,,", reason: "unknown type 'payment' (expected topup, charge or refund)", amount: "5"),
        BadTransaction(row: "t1,2024-03-01 10:00:00,c1,Topup,,5,,", reason: "unknown type 'Topup'", amount: "5"),
        BadTransaction(row: "t1,2024-03-01 10:00:00,c1,topup,Compute,7.25,,", reason: "a topup must have an empty service", amount: "7.25"),
        BadTransaction(row: "t1,2024-03-01 10:00:00,c1,charge,,1.5,,", reason: "a charge needs a service", amount: "1.5"),
        BadTransaction(row: "t1,2024-03-01 10:00:00,c1,refund,,0.000001,,", reason: "a refund needs a service", amount: "0.000001"),
        BadTransaction(row: "t1,2024-02-30 10:00:00,c1,topup,,100,,", reason: "timestamp has an impossible date", amount: "100"),
        BadTransaction(row: "t1,,c1,topup,,100,,", reason: "timestamp is empty", amount: "100"),
        BadTransaction(row: ",2024-03-01 10:00:00,c1,topup,,100,,", reason: "id is empty", amount: "100"),
        BadTransaction(row: "t1,2024-03-01 10:00:00,,topup,,100,,", reason: "client_id is empty", amount: "100"),
        BadTransaction(row: "t1,2024-03-01 10:00:00,c1,,,100,,", reason: "type is empty", amount: "100"),
        BadTransaction(row: "t1,2024-03-01 10:00:00,c1,topup,,12abc,,", reason: "amount is not a number", amount: nil),
        BadTransaction(row: "t1,2024-03-01 10:00:00,c1,topup,,,,", reason: "amount is empty", amount: nil),
        BadTransaction(row: "t1,2024-03-01 10:00:00,c1,topup,,-5,,", reason: "amount must be positive", amount: nil),
        BadTransaction(row: "t1,2024-03-01 10:00:00,c1,topup,,1.1234567890123,,", reason: "more than 12 fractional digits", amount: nil),
        BadTransaction(row: "t1,2024-03-01 10:00:00,c1,topup,,10000000000000,,", reason: "too large", amount: nil),
        // An amount whose currency cannot be read belongs to no currency's control totals: it is
        // counted as a rejected transaction without a readable amount.
        BadTransaction(row: "t1,2024-03-01 10:00:00,c1,topup,,5,rub,", reason: "currency 'rub' is not a three-letter code", amount: nil),
        BadTransaction(row: "t1,2024-03-01 10:00:00,c1,topup,,5,RUBL,", reason: "currency 'RUBL'", amount: nil),
        BadTransaction(row: "t1,2024-03-01 10:00:00,c1,zap,,5,USD,", reason: "unknown type 'zap'", amount: "5", currency: "USD"),
    ]

    @Test("a bad transaction is rejected with its reason and keeps its readable amount", arguments: badTransactions)
    func badTransaction(_ bad: BadTransaction) throws {
        let (export, path) = try Self.ingest("tx.csv", Self.transactionsHeader + "t0,2024-03-01 09:00:00,c1,topup,,1,,\n" + bad.row + "\n")
        #expect(export.transactions.map(\.id) == ["t0"])
        try #require(export.rejections.count == 1)
        let rejection = export.rejections[0]
        #expect(rejection.reason.contains(bad.reason), "reason was: \(rejection.reason)")
        #expect(export.location(rejection.source) == "\(path):3")
        #expect(rejection.kind == .transaction)
        #expect(rejection.isRecord)
        #expect(rejection.amount?.micros == bad.amount.map(Self.micros))
        #expect(rejection.currency == bad.currency)
        #expect(rejection.recordID == (bad.row.hasPrefix(",") ? "" : "t1"))
    }

    @Test("a transaction's fields are decoded; currency defaults to RUB")
    func transactionFields() throws {
        let text = Self.transactionsHeader
            + "t1,2024-03-01T00:15:00.750Z,c1,topup,,1000,,\"Пополнение, \"\"срочно\"\"\"\n"
            + "t2,2024-03-01 10:00:00,c2,charge,Compute Cloud,0.004167,RUB,\n"
            + "t3,1709251200,c2,refund,Compute Cloud,1.5,USD,x\n"
        let (export, _) = try Self.ingest("tx.csv", text)
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        try #require(export.transactions.count == 3)
        let (t1, t2, t3) = (export.transactions[0], export.transactions[1], export.transactions[2])
        #expect(t1.kind == .topup && t1.service == "" && t1.currency == "RUB")
        #expect(t1.description == "Пополнение, \"срочно\"")
        #expect(t1.instant.nanoseconds == 750_000_000 && t1.instant.fractionDigits == 3)
        #expect(MoscowTime.isoText(t1.instant) == "2024-03-01T03:15:00.750+03:00")
        #expect(t2.kind == .charge && t2.amount.micros == 4_167 && t2.currency == "RUB" && t2.clientID == "c2")
        #expect(t2.net.micros == -4_167)
        // A second currency is the run's problem to report, not the reader's.
        #expect(t3.kind == .refund && t3.currency == "USD" && t3.instant.seconds == 1_709_251_200)
        #expect(export.transactions.map(\.source.line) == [2, 3, 4])
        #expect(export.transactions.allSatisfy { $0.source.file == 0 })
    }

    @Test("naive timestamps use the run's offset")
    func naiveOffsetOption() throws {
        let text = Self.transactionsHeader + "t1,2024-03-01 00:15:00,c1,topup,,1,,\nt2,2024-03-01T00:15:00+03:00,c1,topup,,1,,\n"
        let (export, _) = try Self.ingest("tx.csv", text, options: IngestOptions(naiveOffsetSeconds: 0))
        #expect(export.transactions.map(\.instant.seconds) == [1_709_252_100, 1_709_252_100 - 10_800])
    }

    @Test("client records: partner default, balance checkpoint, validation")
    func clients() throws {
        let text = "client_id,name,email,phone,partner_id,balance,balance_at\n"
            + "c1,\"ООО \"\"Ромашка\"\"\",a@b.c,+7 495,alfa,-15.5,2024-03-01 00:00:00\n"
            + "c2,,b@c.d,,,,\n"
            + "c3,,no-at-sign,,,,\n"
            + "c4,,d@e.f,,,100,\n"
            + "c5,,,,,,\n"
            + "c6,,e@f.g,,,1.5x,2024-03-01 00:00:00\n"
        let (export, _) = try Self.ingest("clients.csv", text)
        #expect(export.clients.map(\.id) == ["c1", "c2"])
        #expect(export.clients[0].name == "ООО \"Ромашка\"")
        #expect(export.clients[0].partnerID == "alfa")
        let midnight = try TimestampParser.parse("2024-02-29T21:00:00Z")
        #expect(export.clients[0].checkpoint == BalanceCheckpoint(balance: Money(micros: -15_500_000), at: midnight))
        #expect(export.clients[1].partnerID == "default")
        #expect(export.clients[1].checkpoint == nil)
        #expect(export.rejections.map(\.source.line) == [4, 5, 6, 7])
        #expect(export.rejections.map(\.recordID) == ["c3", "c4", "c5", "c6"])
        #expect(export.rejections[0].reason.contains("has no @"))
        #expect(export.rejections[1].reason == "balance and balance_at go together")
        #expect(export.rejections[2].reason == "email is empty")
        #expect(export.rejections[3].reason.hasPrefix("balance: "))
        #expect(export.rejections.allSatisfy { $0.kind == .client && $0.amount == nil })
    }

    @Test("event records: every type, unknown types rejected")
    func events() throws {
        let text = "client_id;timestamp;type\n"
            + "c1;2024-03-01 10:00:00;invited\nc1;2024-03-01 11:00:00;confirmed\nc1;2024-03-02 10:00:00;blocked\n"
            + "c1;2024-03-03 10:00:00;unblocked\nc1;2024-03-04 10:00:00;removed\n"
            + "c1;2024-03-05 10:00:00;deleted\nc1;not a time;invited\n"
        let (export, _) = try Self.ingest("events.csv", text)
        #expect(export.events.map(\.kind) == [.invited, .confirmed, .blocked, .unblocked, .removed])
        #expect(export.rejections.map(\.source.line) == [7, 8])
        #expect(export.rejections[0].reason.contains("unknown event type 'deleted'"))
        #expect(export.rejections[1].reason.contains("timestamp"))
    }

    @Test("a malformed CSV record is a record rejection; the rest of the file is read")
    func malformedRecord() throws {
        let text = Self.transactionsHeader
            + "t1,2024-03-01 10:00:00,c1,topup,,5,,\n"
            + "t2,2024-03-01 10:00:00,c1,topup,,5,,ab\"c\n"
            + "t3,2024-03-01 10:00:00,c1,topup,,5,,\"x\"y\n"
            + "t4,2024-03-01 10:00:00,c1,topup,,5,,\"multi\nline\"\n"
            + "t5,2024-03-01 10:00:00,c1,topup,,5,,\n"
        let (export, path) = try Self.ingest("tx.csv", text)
        #expect(export.transactions.map(\.id) == ["t1", "t4", "t5"])
        #expect(export.transactions.map(\.source.line) == [2, 5, 7])
        #expect(export.rejections.map { export.location($0.source) } == ["\(path):3", "\(path):4"])
        #expect(export.rejections.allSatisfy { $0.isRecord && $0.kind == .transaction })
        #expect(export.files[0].records == 5)
    }

    @Test("an unterminated quote refuses the file, naming that line: the rest of it cannot be read")
    func unterminatedQuote() throws {
        let text = Self.transactionsHeader
            + "t1,2024-03-01 10:00:00,c1,topup,,5,,\n"
            + "t2,2024-03-01 10:00:00,c1,topup,,5,,\"never closed\n"
            + "t3,2024-03-01 10:00:00,c1,topup,,5,,\n"
        let (export, path) = try Self.ingest("tx.csv", text)
        try #require(export.fileFailures.count == 1)
        #expect(export.describe(export.fileFailures[0]).hasPrefix("\(path):3: unterminated quoted field"))
        #expect(export.rejections.isEmpty)
    }

    // MARK: XML and several files

    @Test("an XML export is detected by extension or content, with all its kinds")
    func xmlExport() throws {
        // Leading blank space: content detection skips it (an XML declaration could not follow it).
        let xml = """

              <export>
              <clients><client client_id="c1" email="a@b.c"/></clients>
              <events><event client_id="c1" timestamp="1709251200" type="confirmed"/></events>
              <transactions>
                <transaction id="t1" timestamp="2024-03-01T10:00:00Z" client_id="c1" type="charge">
                  <service>Object Storage</service><amount>1.5</amount><description><![CDATA[a & b]]></description>
                </transaction>
                <transaction id="t2" timestamp="2024-03-01T10:00:00Z" client_id="c1" type="charge" amount="1,5" service="S"/>
              </transactions>
            </export>
            """
        for name in ["export.xml", "export.dat"] {
            let (export, path) = try Self.ingest(name, xml)
            #expect(export.files.map(\.format) == [.xml])
            #expect(export.files.map(\.kinds) == [[.transaction, .client, .event]])
            #expect(export.files.map(\.records) == [4])
            #expect(export.clients.map(\.id) == ["c1"])
            #expect(export.events.map(\.kind) == [.confirmed])
            #expect(export.transactions.map(\.id) == ["t1"])
            #expect(export.transactions.first?.description == "a & b")
            #expect(export.transactions.first?.source.line == 6)
            // XML amounts use the point only.
            #expect(export.rejections.map { export.location($0.source) } == ["\(path):9"])
            #expect(export.rejections.first?.amount == nil)
        }
    }

    @Test("an XML document without sections is refused; one with an empty section is an export without rows")
    func emptyXML() throws {
        var (export, _) = try Self.ingest("empty.xml", "<export/>")
        #expect(export.fileFailures.first?.reason.contains("holds no") == true)
        (export, _) = try Self.ingest("empty.xml", "<export><clients/></export>")
        #expect(export.fileFailures.isEmpty && export.rejections.isEmpty)
        #expect(export.files.map(\.kinds) == [[.client]])
        #expect(export.hasFile(of: .client))
    }

    @Test("several files: each record points at its own file")
    func severalFiles() throws {
        let (export, paths) = try Self.ingest([
            ("a.csv", Array((Self.transactionsHeader + "t1,2024-03-01 10:00:00,c1,topup,,5,,\n").utf8)),
            ("b.csv", Array("client_id,email\nc1,a@b.c\nc2,bad\n".utf8)),
            ("c.xml", Array("<export><transactions><transaction id=\"t2\" timestamp=\"2024-03-01T10:00:00Z\" client_id=\"c1\" type=\"topup\" amount=\"x\"/></transactions></export>".utf8)),
        ])
        #expect(export.files.map(\.path) == paths)
        #expect(export.transactions.map(\.source.file) == [0])
        #expect(export.clients.map(\.source.file) == [1])
        #expect(export.rejections.map { export.location($0.source) } == ["\(paths[1]):3", "\(paths[2]):1"])
    }

    @Test("the sample data ingests without a rejection and with the oracle's totals")
    func sampleData() throws {
        let root = Repository.sampleData
        let names = ["clients.csv", "events.csv", "transactions-2024-03-ru.csv", "transactions-2024-03.csv", "export-2024-03.xml"]
        let export = Ingestor.ingest(paths: names.map { root.appendingPathComponent($0).path }, options: IngestOptions())
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        #expect(export.files.map(\.records) == [9, 24, 21, 42, 17])
        #expect(export.clients.count == 10)
        #expect(export.events.count == 26)
        #expect(export.transactions.count == 77)
        // Totals of every transaction record read, from sample-data/EXPECTED.md (an independent oracle).
        func total(_ kind: TransactionKind) -> Int128 { export.transactions.filter { $0.kind == kind }.sum(\.amount).micros }
        #expect(total(.topup) == Self.micros("97700.00"))
        #expect(total(.charge) == Self.micros("21506.57591"))
        #expect(total(.refund) == Self.micros("1090.302358"))
    }
}
