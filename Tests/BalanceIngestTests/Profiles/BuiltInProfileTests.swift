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

/// Issue 9: the built-in profiles, by name, over fixtures written from each layout, checked
/// against an independent computation from the export rows (`scripts/check_net.py`, exact decimals).
@Suite("Built-in profiles: FOCUS and the Yandex Cloud partner report")
struct BuiltInProfileTests {
    static func fixtures(_ folder: String) throws -> [String] {
        let path = Repository.root.appendingPathComponent("sample-data/" + folder).path
        return try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".csv") }.sorted().map { path + "/" + $0 }
    }

    @Test("every built-in profile parses, and `profiles` lists each with its one line")
    func listed() throws {
        for entry in BuiltInProfiles.all {
            let profile = try ImportProfile.resolve(entry.name)
            #expect(!profile.summary.isEmpty)
        }
        let result = try BalanceReportBinary.run(["profiles"])
        #expect(result.status == 0)
        #expect(result.stdout.split(separator: "\n").map { String($0.prefix { $0 != " " }) } == BuiltInProfiles.names)
        let shown = try BalanceReportBinary.run(["profiles", "--show", "focus"])
        #expect(try ImportProfile.parse(shown.stdout, path: "shown") == ImportProfile.resolve("focus").renamed("shown"))
    }

    /// Runs `scripts/check_net.py` on a render: its exit status, what it printed, and its complaints.
    static func checkNet(_ profile: String, _ first: String, _ last: String, out: String, files: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", Repository.root.appendingPathComponent("scripts/check_net.py").path, profile, first, last, out] + files
        let (outPipe, errPipe) = (Pipe(), Pipe())
        check.standardOutput = outPipe
        check.standardError = errPipe
        try check.run()
        let problems = String(decoding: errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let printed = String(decoding: outPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        return (check.terminationStatus, printed, problems)
    }

    /// Issue 23: the exports of several currencies (`*-currencies`) are compared per currency too.
    @Test("a render's net per client, service (and currency) equals the exports' own sums, exactly", arguments: [
        ("focus", "2024-09-01", "2024-09-30", "focus"), ("yandex-cloud-partner", "2024-03-01", "2024-03-31", "yandex"),
        ("focus", "2024-09-01", "2024-09-30", "focus-currencies"),
        ("yandex-cloud-partner", "2024-03-01", "2024-03-31", "yandex-currencies"),
    ])
    func netAgrees(_ profile: String, _ first: String, _ last: String, _ folder: String) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let files = try Self.fixtures(folder)
        let out = temp.url.appendingPathComponent("out").path
        let render = try BalanceReportBinary.run(["render", "--from", first, "--to", last, "--profile", profile, "--quiet", "--out", out] + files)
        #expect(render.status == 0, "\(render.stderr)")
        let check = try Self.checkNet(profile, first, last, out: out, files: files)
        #expect(check.status == 0, "\(check.stderr)")
        // A run of several currencies is checked per currency (services.csv has the column).
        #expect(check.stdout.contains("/currency keys agree") == folder.hasSuffix("-currencies"), "\(check.stdout)")
    }

    @Test("check_net.py tells two currencies of one client and service apart: swapped currencies fail it")
    func netCheckerKeepsCurrenciesApart() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let files = try Self.fixtures("yandex-currencies")
        let out = temp.url.appendingPathComponent("out").path
        let render = try BalanceReportBinary.run(["render", "--period", "2024-03", "--profile", "yandex-cloud-partner", "--quiet", "--out", out] + files)
        #expect(render.status == 0, "\(render.stderr)")
        // acc-move spends on Managed PostgreSQL in RUB and in KZT: swap the two rows' currencies.
        let path = out + "/default/services.csv"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let moved = lines.indices.filter { lines[$0].hasPrefix("acc-move,Managed PostgreSQL,") }
        try #require(moved.count == 2, "\(text)")
        let currencies = moved.map { String(lines[$0].split(separator: ",").last!) }
        #expect(Set(currencies) == ["KZT", "RUB"])
        for (index, currency) in zip(moved, currencies.reversed()) {
            lines[index] = lines[index].split(separator: ",").dropLast().joined(separator: ",") + "," + currency
        }
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let check = try Self.checkNet("yandex-cloud-partner", "2024-03-01", "2024-03-31", out: out, files: files)
        #expect(check.status == 1)
        #expect(check.stderr.contains("'acc-move', 'Managed PostgreSQL', 'KZT'") && check.stderr.contains("'acc-move', 'Managed PostgreSQL', 'RUB'"), "\(check.stderr)")
    }

    @Test("Yandex: of a day exported three times only the last export counts; the others are superseded, with their amounts")
    func superseded() throws {
        var options = IngestOptions(profile: try ImportProfile.resolve("yandex-cloud-partner"), inputOffsetSeconds: nil, renames: [:], encoding: nil)
        options = options.forFile("x.csv")
        let export = Ingestor.ingest(paths: try Self.fixtures("yandex"), options: options)
        #expect(export.rejections.isEmpty && export.fileFailures.isEmpty, "\(export.rejections) \(export.fileFailures)")
        // 09:00: 3 rows, one with a credit (4 records); 15:00: 4 rows, two with credits (6 records).
        #expect(export.superseded.count == 10)
        #expect(Set(export.superseded.map(\.source.file)) == [0, 1])
        #expect(export.transactions.filter { $0.source.file == 2 }.count == 5)
        // Ids come from the content, one per amount column.
        #expect(export.transactions.allSatisfy { $0.id.hasPrefix("row-") && ($0.id.hasSuffix("-cost") || $0.id.hasSuffix("-credit")) })
        // A credit is a refund of its absolute value; the clients come from the rows.
        let credit = try #require(export.transactions.first { $0.id.hasSuffix("-credit") })
        #expect(credit.kind == .refund && !credit.amount.isNegative)
        #expect(export.derivedClients.map(\.name) == ["ООО «Ромашка»", "ИП Петров"])
    }

    @Test("FOCUS: credits and negative adjustments are refunds, UTC is read at the Moscow day boundary, NULL is empty")
    func focus() throws {
        let options = IngestOptions(profile: try ImportProfile.resolve("focus"), inputOffsetSeconds: nil, renames: [:], encoding: nil).forFile("x.csv")
        let export = Ingestor.ingest(paths: try Self.fixtures("focus"), options: options)
        #expect(export.rejections.isEmpty && export.fileFailures.isEmpty)
        let byID = Dictionary(uniqueKeysWithValues: export.transactions.filter { !$0.id.hasPrefix("row-") }.map { ($0.id, $0) })
        #expect(byID["f-06"]?.kind == .refund && byID["f-06"]?.amount.description == "10.50")
        #expect(byID["f-07"]?.kind == .refund && byID["f-07"]?.amount.description == "0.333333333333")
        #expect(byID["f-08"]?.kind == .charge)
        #expect(byID["f-04"]?.amount.description == "120.000000000001")
        #expect(byID["f-11"]?.description == "")
        #expect(byID["f-02"].map { MoscowTime.date(of: $0.instant) } == CivilDate(year: 2024, month: 9, day: 1))
        #expect(byID["f-01"].map { MoscowTime.date(of: $0.instant) } == CivilDate(year: 2024, month: 8, day: 31))
        #expect(export.derivedClients.map(\.partnerID).contains("acct-b"))
    }
}

extension ImportProfile {
    func renamed(_ path: String) -> ImportProfile {
        var copy = self
        copy.path = path
        return copy
    }
}
