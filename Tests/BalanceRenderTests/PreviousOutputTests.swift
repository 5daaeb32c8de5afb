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
import Glibc
import Testing

/// `--compare-with DIR` (`Render/PreviousOutput.swift`): an earlier output read back exactly, in
/// both CSV dialects, and everything that is not such an output refused with the file named.
@Suite("Render: reading an earlier output back")
struct PreviousOutputTests: ModelBuilders {
    /// Ids, names and services the CSV writer must quote or neutralise, lookalikes, exact amounts.
    func hostileReport() throws -> RunReport {
        let ids = ["=cmd|' /C calc'!A0", "+1", "-x", "@SUM(A1)", "a,b", "q\"uote", "line\nbreak", "'=plain", "-5",
                   "\u{0401}лка", "\u{0415}\u{0308}лка", "\tTab", "plain"]
        var transactions: [Transaction] = []
        var events: [ClientEvent] = []
        for (n, id) in ids.enumerated() {
            events += [ev(id, "2024-01-01 00:00:00", .invited), ev(id, "2024-01-02 00:00:00", .confirmed)]
            transactions.append(tx("c\(n)", "2024-03-02 10:00:00", client: id, .charge, service: ids[(n + 1) % ids.count], "12.345678901234"))
            transactions.append(tx("r\(n)", "2024-03-03 10:00:00", client: id, .refund, service: ids[(n + 1) % ids.count], "20.000000000001"))
            transactions.append(tx("s\(n)", "2024-03-04 10:00:00", client: id, .charge, service: "Compute; \"Cloud\"", "1234567.5"))
        }
        var clients = ids.map { clientRecord($0, name: "=HYPERLINK(\"x\";\"y\") \($0)") }
        clients.append(clientRecord("invited-only"))
        events.append(ev("invited-only", "2024-03-05 00:00:00", .invited))
        return try runReport(export(transactions, clients: clients, events: events))
    }

    func files(_ report: RunReport, _ dialect: CSVDialect) throws -> (snapshot: [UInt8], services: [UInt8]) {
        let set = try TemplateSet(dialect: dialect, language: .en) { BuiltinTemplates.source(.en, $0)! }
        let renderer = ReportRenderer(templates: set, dialect: dialect)
        let partner = try #require(report.partners.first)
        return (try renderer.page(set.snapshotCSV, partner, report), try renderer.page(set.servicesCSV, partner, report))
    }

    @Test("what the tool wrote, in either dialect, reads back as the same spend, byte for byte", arguments: CSVDialect.allCases)
    func roundTrip(_ dialect: CSVDialect) throws {
        let report = try hostileReport()
        let partner = try #require(report.partners.first)
        let (snapshot, services) = try files(report, dialect)
        let spend = try PreviousOutput.spend(snapshot: snapshot, services: services, period: report.period, shownAs: ("s", "v"))
        #expect(Array(spend.keys) == ["RUB"])
        let read = try #require(spend["RUB"])
        let expected = PeriodSpend(partner, period: report.period)
        #expect(read.clients.count == 14)
        #expect(read.clients.map { Array($0.id.utf8) } == expected.clients.map { Array($0.id.utf8) })
        #expect(read.clients.map { $0.services.map { Array($0.service.utf8) } } == expected.clients.map { $0.services.map { Array($0.service.utf8) } })
        #expect(read.clients.map { $0.services.map(\.net) } == expected.clients.map { $0.services.map(\.net) })
        #expect(read.clients.map(\.name) == expected.clients.map(\.name))
        // Nothing changed between the two: the comparison of the report with its own output is empty of change.
        let c = PartnerComparison(previous: read, current: expected)
        #expect(c.rows.allSatisfy { $0.change == .zero } && c.newClients.isEmpty && c.goneClients.isEmpty)
        #expect(c.rows.contains { $0.previous == money("-7.654321098767") })
    }

    @Test("a neutralised cell loses its quote mark; an unquoted one that begins with ' keeps it")
    func neutralisation() throws {
        #expect(PreviousOutput.unneutralised("'=1+2") == "=1+2")
        #expect(PreviousOutput.unneutralised("'-x") == "-x")
        #expect(PreviousOutput.unneutralised("'plain") == "'plain")
        #expect(PreviousOutput.unneutralised("'") == "'")
        let csv = "client_id,name,closing_balance\n'=plain,\"'=quoted\",\n"
        let read = try PreviousOutput.spend(snapshot: Array(csv.utf8), services: Array("client_id,service,charged,refunded,net\n".utf8),
                                            period: try ReportPeriod.parse("2024-02"), shownAs: ("s", "v"))["RUB"]!
        #expect(read.clients.map(\.id) == ["'=plain"] && read.clients.map(\.name) == ["=quoted"])
        // An empty closing balance: the partner did not see that client's money then.
        #expect(read.clients.map(\.moneyShown) == [false])
    }

    @Test("an output of several currencies reads back per currency; a row without money is in the partner's first currency")
    func severalCurrencies() throws {
        let snapshot = "client_id,name,closing_balance,currency\na,A,1,USD\na,A,2,RUB\nb,B,,\n"
        let services = "client_id,service,charged,refunded,net,currency\na,S,2,0,2,USD\na,S,5,0,5,RUB\n"
        let read = try PreviousOutput.spend(snapshot: Array(snapshot.utf8), services: Array(services.utf8),
                                            period: try ReportPeriod.parse("2024-02"), currency: nil, shownAs: ("s", "v"))
        #expect(read.keys.sorted() == ["RUB", "USD"])
        #expect(read["USD"]?.clients.map(\.id) == ["a"] && read["USD"]?.clients.first?.spend == money("2"))
        #expect(read["RUB"]?.clients.map(\.id) == ["a", "b"] && read["RUB"]?.clients.first?.spend == money("5"))
        // A currency cell that is not a code (a lookalike, lower case) is refused, never taken as a currency.
        for cell in ["usd", "U\u{0301}SD", ""] {
            let odd = "client_id,name,closing_balance,currency\na,A,1,\(cell)\n"
            #expect(throws: Diagnostic.self) {
                try PreviousOutput.spend(snapshot: Array(odd.utf8), services: Array("client_id,service,charged,refunded,net,currency\n".utf8),
                                         period: try ReportPeriod.parse("2024-02"), currency: nil, shownAs: ("s", "v"))
            }
        }
        // A service row of a currency the client was not listed in is refused, never moved to another.
        let wrong = "client_id,service,charged,refunded,net,currency\nb,S,1,0,1,KZT\n"
        #expect(throws: Diagnostic.self) {
            try PreviousOutput.spend(snapshot: Array(snapshot.utf8), services: Array(wrong.utf8),
                                     period: try ReportPeriod.parse("2024-02"), currency: nil, shownAs: ("s", "v"))
        }
    }

    func refusal(snapshot: String = "client_id,name,closing_balance\na,A,1\n", services: String) -> String? {
        do {
            _ = try PreviousOutput.spend(snapshot: Array(snapshot.utf8), services: Array(services.utf8),
                                         period: try ReportPeriod.parse("2024-02"), shownAs: ("P/snapshot.csv", "P/services.csv"))
            return nil
        } catch let error as Diagnostic {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test("CSV that is not the tool's own is refused, with the file and line")
    func malformedCSV() {
        let header = "client_id,service,charged,refunded,net\n"
        #expect(refusal(services: header + "a,S,1,0,1\n") == nil)
        #expect(refusal(services: header + "a,S,1,0,1.5e3\n")?.hasPrefix("P/services.csv:2: net: amount is not a number") == true)
        #expect(refusal(services: header + "a,S,1,0,1,50\n")?.contains("P/services.csv:2: 6 fields") == true)
        #expect(refusal(services: header + "b,S,1,0,1\n")?.contains("client b is not in P/snapshot.csv") == true)
        #expect(refusal(services: header + "a,S,1,0,1\na,S,1,0,1\n")?.contains("P/services.csv:3: client a and service S appear twice") == true)
        #expect(refusal(services: "client_id,service,net\n")?.contains("P/services.csv:1: the header is not the one") == true)
        #expect(refusal(services: header + "a,\"S,1,0,1\n")?.contains("unterminated") == true)
        // Dialects: ';' without a BOM, or ',' with one, is neither.
        #expect(refusal(services: "client_id;service;charged;refunded;net\n")?.contains("neither CSV dialect") == true)
        #expect(refusal(services: "\u{FEFF}" + header)?.contains("neither CSV dialect") == true)
        #expect(refusal(services: "\u{FEFF}client_id;service;charged;refunded;net\r\na;S;1;0;1,25\r\n") == nil)
        #expect(refusal(services: "")?.contains("is empty") == true)
        #expect(refusal(snapshot: "client_id,name,closing_balance\na,A,1\na,B,1\n", services: header)?.contains("P/snapshot.csv:3: client a is listed twice") == true)
        // Lookalike ids are two clients in the snapshot, not one listed twice.
        #expect(refusal(snapshot: "client_id,name,closing_balance\n\u{0401},A,1\n\u{0415}\u{0308},B,\n", services: header) == nil)
    }

    // MARK: The folder

    /// An earlier output of partner folder `P` for `period`, with the marker listing `files`.
    func output(_ temp: TemporaryFolder, period: String? = "2024-02-01 2024-02-29", header: String = OutputFolder.markerHeader,
                files: [String] = ["P/services.csv", "P/snapshot.csv"]) throws -> String {
        let dir = temp.url.appendingPathComponent("prev")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("P"), withIntermediateDirectories: true)
        try Data("client_id,name,closing_balance\na,A,1\n".utf8).write(to: dir.appendingPathComponent("P/snapshot.csv"))
        try Data("client_id,service,charged,refunded,net\na,S,2,0,2\n".utf8).write(to: dir.appendingPathComponent("P/services.csv"))
        let marker = ([header] + (period.map { ["period " + $0] } ?? []) + files).joined(separator: "\n") + "\n"
        try Data(marker.utf8).write(to: dir.appendingPathComponent(OutputFolder.markerName))
        return dir.path
    }

    func read(_ dir: String, _ current: String = "2024-03") -> Result<PreviousOutput.Contents, Diagnostic> {
        Result { () throws(Diagnostic) in
            try PreviousOutput.read(dir, current: try! ReportPeriod.parse(current), folders: ["P", "Q"])
        }
    }

    func message(_ result: Result<PreviousOutput.Contents, Diagnostic>) -> String {
        if case .failure(let error) = result { return error.message }
        return "(read)"
    }

    @Test("an earlier output is read through its marker; a partner it does not have gets no earlier side")
    func readsTheListedFiles() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let contents = try read(try output(temp)).get()
        #expect(contents.period == (try ReportPeriod.parse("2024-02")))
        #expect(contents.partners["P"]?["RUB"]?.clients.map(\.id) == ["a"])
        #expect(contents.partners["P"]?["RUB"]?.clients.first?.services == [PeriodSpend.Service(service: "S", net: money("2"))])
        #expect(contents.partners["Q"] == nil)
    }

    @Test("refused: no marker, a foreign or damaged one, no period, a period that is not before, a listed file missing")
    func refusesWhatIsNotAnEarlierOutput() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let plain = temp.url.appendingPathComponent("plain")
        try FileManager.default.createDirectory(at: plain, withIntermediateDirectories: true)
        #expect(message(read(plain.path)).contains("is not an output of balance-report (it has no .balance-report-output)"))
        #expect(message(read(temp.url.appendingPathComponent("missing").path)).contains("cannot open the folder"))
        var dir = try output(temp, header: "balance-report output 2")
        #expect(message(read(dir)).contains("is not the marker of a balance-report output"))
        try FileManager.default.removeItem(atPath: dir)
        dir = try output(temp, period: nil)
        #expect(message(read(dir)).contains("does not say which period"))
        try FileManager.default.removeItem(atPath: dir)
        dir = try output(temp)
        // The same period, one overlapping it, one after it: refused; the month before: read.
        #expect(message(read(dir, "2024-02")).contains("is of 2024-02-01 – 2024-02-29, which is not before 2024-02-01 – 2024-02-29"))
        #expect(message(read(dir, "2024-Q1")).contains("not before"))
        #expect(message(read(dir, "2024-01")).contains("not before"))
        #expect(message(read(dir, "2024-03")) == "(read)")
        try FileManager.default.removeItem(atPath: dir)
        dir = try output(temp, files: ["P/snapshot.csv"])
        #expect(message(read(dir)).contains("lists P/snapshot.csv but not P/services.csv"))
        try FileManager.default.removeItem(atPath: dir)
        dir = try output(temp)
        try FileManager.default.removeItem(atPath: dir + "/P/services.csv")
        #expect(message(read(dir)).contains("cannot open \(dir)/P/services.csv"))
    }

    @Test("never through a symbolic link (of a file or of the partner folder), never a pipe; a file over the limit is refused")
    func safety() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let secret = try temp.file("secret.csv", "client_id,service,charged,refunded,net\na,S,999,0,999\n")
        var dir = try output(temp)
        try FileManager.default.removeItem(atPath: dir + "/P/services.csv")
        try FileManager.default.createSymbolicLink(atPath: dir + "/P/services.csv", withDestinationPath: secret)
        #expect(message(read(dir)).contains("symbolic link"))
        try FileManager.default.removeItem(atPath: dir)
        // The partner folder a link to a folder elsewhere.
        dir = try output(temp)
        let elsewhere = temp.url.appendingPathComponent("elsewhere").path
        try FileManager.default.moveItem(atPath: dir + "/P", toPath: elsewhere)
        try FileManager.default.createSymbolicLink(atPath: dir + "/P", withDestinationPath: elsewhere)
        #expect(message(read(dir)).contains("symbolic link"))
        try FileManager.default.removeItem(atPath: dir)
        // A named pipe that nobody writes: refused at once, not waited on.
        dir = try output(temp)
        try FileManager.default.removeItem(atPath: dir + "/P/services.csv")
        #expect(mkfifo(dir + "/P/services.csv", 0o600) == 0)
        #expect(message(read(dir)).contains("is not a regular file"))
        try FileManager.default.removeItem(atPath: dir)
        // A marker that is a link is not followed either.
        dir = try output(temp)
        let marker = dir + "/" + OutputFolder.markerName
        try FileManager.default.moveItem(atPath: marker, toPath: temp.url.appendingPathComponent("m").path)
        try FileManager.default.createSymbolicLink(atPath: marker, withDestinationPath: temp.url.appendingPathComponent("m").path)
        #expect(message(read(dir)).contains("symbolic link"))
        // The size limit.
        let root = open(temp.url.path, O_RDONLY | O_DIRECTORY)
        defer { close(root) }
        #expect(throws: Diagnostic.self) {
            _ = try PreviousOutput.readFile(root, ["secret.csv"], limit: 10, shown: "secret.csv", missingIsNil: false)
        }
        #expect(try PreviousOutput.readFile(root, ["secret.csv"], limit: 1000, shown: "secret.csv", missingIsNil: false)?.count == 53)
    }
}
