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

/// Issue 4, what the data can do to the output, end to end through the binary: hostile client
/// ids stay inside `--out`, hostile names are neutralised in CSV and escaped in HTML, file-name
/// collisions are errors, planted symlinks are not followed, and huge amounts neither trap nor wrap.
@Suite("Output safety through the binary")
struct OutputSafetyTests {
    static let transactionsHeader = "id,timestamp,client_id,type,service,amount,currency,description\n"

    static func csvField(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func render(_ temp: TemporaryFolder, _ files: [String], out: String = "out", extra: [String] = []) throws -> SpawnedProcess.Result {
        try SpawnedProcess.run(["render", "--period", "2024-03", "--quiet", "--templates", HostileCorpusTests.templates, "--out", out] + extra + files, in: temp.url)
    }

    static let hostileIDs = ["../../etc/x", "a/b", ".", "..", "../x", "CON", "-rf", "a\\b", "x\u{1}y", String(repeating: "z", count: 10_240), "", "ok-1"]

    @Test("client ids like ../../etc/x, a/b, ., .., empty and 10 KB: every file lands inside --out under an encoded name")
    func hostileClientIDs() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        var clients = "client_id,name,email,partner_id\n"
        var transactions = Self.transactionsHeader
        for (index, id) in Self.hostileIDs.enumerated() {
            clients += "\(Self.csvField(id)),Name \(index),c\(index)@example.com,p\n"
            transactions += "t\(index),2024-03-0\(index % 9 + 1)T10:00:00+03:00,\(Self.csvField(id)),topup,,\(index + 1),,\n"
        }
        _ = try temp.file("clients.csv", clients)
        _ = try temp.file("transactions.csv", transactions)
        try FileManager.default.createDirectory(at: temp.url.appendingPathComponent("deep/er"), withIntermediateDirectories: true)
        let before = allEntries(temp.url)
        let result = try Self.render(temp, ["clients.csv", "transactions.csv"], out: "deep/er/out", extra: ["--allow-rejects"])
        #expect(result.status == 0, "\(result.stderr)")
        // The empty id is a rejected record (listed in rejects.csv), not a file.
        let rejects = try String(contentsOfFile: temp.url.appendingPathComponent("deep/er/out/rejects.csv").path, encoding: .utf8)
        #expect(rejects.contains("clients.csv,12,client,,,client_id is empty"), "\(rejects)")
        #expect(rejects.contains("transactions.csv,12,transaction,t10,11.00,client_id is empty"), "\(rejects)")

        // Every file written is under --out; nothing else in the whole temporary tree changed.
        let after = allEntries(temp.url)
        let added = Set(after).subtracting(before)
        #expect(added.allSatisfy { $0.hasPrefix("deep/er/out/") }, "\(added.filter { !$0.hasPrefix("deep/er/out/") })")
        #expect(!FileManager.default.fileExists(atPath: temp.url.appendingPathComponent("deep/etc").path))
        #expect(!FileManager.default.fileExists(atPath: temp.url.appendingPathComponent("deep/er/x").path))
        let clientFiles = added.filter { $0.hasPrefix("deep/er/out/p/clients/") && !$0.hasSuffix("/") }
            .map { String($0.dropFirst("deep/er/out/p/clients/".count)) }
        var expected: [String] = []
        for id in Self.hostileIDs where !id.isEmpty {
            let name = FileNames.safeName(for: id)
            expected += [name + ".csv", name + ".html"]
            #expect(id == "ok-1" ? name == id : name.hasPrefix("_"), "\(name)")
        }
        #expect(clientFiles.sorted() == expected.sorted())
        for name in clientFiles {
            #expect(name.utf8.count <= 140)
            #expect(name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x2E || $0 == 0x5F }, "\(name)")
        }
        // The encoded page still shows the real id, escaped.
        let dotdot = try String(contentsOfFile: temp.url.appendingPathComponent("deep/er/out/p/clients/\(FileNames.safeName(for: "../../etc/x")).html").path, encoding: .utf8)
        #expect(dotdot.contains("../../etc/x"))
    }

    static let hostileNames = ["=1+1", "+x", "-x", "@x", "\tx", "\rx", "=HYPERLINK(\"http://e/x\",\"Жми\")",
                               "<img src=x onerror=alert(1)>", "\"><script>alert(1)</script>", "' onmouseover='x", "R&D <b>"]

    @Test("names that are HTML or spreadsheet formulas: neutralised in every CSV, escaped in every page")
    func hostileNames() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        var clients = "client_id,name,email,phone,partner_id\n"
        var transactions = Self.transactionsHeader
        for (index, name) in Self.hostileNames.enumerated() {
            clients += "c\(index),\(Self.csvField(name)),c\(index)@example.com,\(Self.csvField(name)),p\n"
            transactions += "t\(index),2024-03-02T10:00:00+03:00,c\(index),charge,\(Self.csvField(name)),1.5,,\(Self.csvField(name))\n"
        }
        _ = try temp.file("clients.csv", clients)
        _ = try temp.file("transactions.csv", transactions)
        let result = try Self.render(temp, ["clients.csv", "transactions.csv"])
        #expect(result.status == 0, "\(result.stderr)")
        let out = temp.url.appendingPathComponent("out")
        let files = fileTree(out)
        // CSV: every text cell that starts with = + - @ tab CR is written with a leading quote mark.
        let snapshot = try String(contentsOf: out.appendingPathComponent("p/snapshot.csv"), encoding: .utf8)
        let services = try String(contentsOf: out.appendingPathComponent("p/services.csv"), encoding: .utf8)
        for name in Self.hostileNames where ["=", "+", "-", "@", "\t", "\r"].contains(where: { name.hasPrefix($0) }) {
            let neutral = Self.csvField("'" + name)
            #expect(snapshot.contains("," + neutral + ","), "snapshot.csv lacks \(neutral)")
            #expect(services.contains("," + neutral + ","), "services.csv lacks \(neutral)")
        }
        // Read back as CSV, no cell of any CSV file starts with a formula character.
        for file in files where file.hasSuffix(".csv") {
            let capture = IngestCSVTestReader.read(path: out.appendingPathComponent(file).path)
            #expect(capture.thrown == nil && capture.malformed.isEmpty, "\(file)")
            for row in capture.rows.dropFirst() {
                for cell in row {
                    guard let first = cell.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { continue }
                    #expect(Escaping.isPlainNumber(cell.utf8), "\(file): formula cell \(cell.debugDescription)")
                }
            }
        }
        // HTML: no payload survives as markup in any page.
        for file in files where file.hasSuffix(".html") {
            let page = try String(contentsOf: out.appendingPathComponent(file), encoding: .utf8)
            #expect(!page.contains("<img src=x"), "\(file)")
            #expect(!page.contains("<script"), "\(file)")
            #expect(!page.contains("R&D <b>"), "\(file)")
            #expect(!page.contains("' onmouseover='x"), "\(file)")
        }
        let index = try String(contentsOf: out.appendingPathComponent("p/snapshot.html"), encoding: .utf8)
        #expect(index.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(index.contains("R&amp;D &lt;b&gt;"))
    }

    /// `FileNames` is injective (see `FileNameCollisions.swift`), so the collision a real run can
    /// meet is one of letter case, which Windows and macOS file systems do not tell apart.
    @Test("two client ids whose files would be one on a case-insensitive disk: an error, nothing written")
    func caseCollision() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        _ = try temp.file("clients.csv", "client_id,name,email,partner_id\nACME,A,a@example.com,p\nacme,B,b@example.com,p\n")
        _ = try temp.file("transactions.csv", Self.transactionsHeader + "t1,2024-03-02T10:00:00+03:00,ACME,topup,,1,,\nt2,2024-03-02T10:00:00+03:00,acme,topup,,2,,\n")
        let before = allEntries(temp.url)
        let result = try Self.render(temp, ["clients.csv", "transactions.csv"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("clients 'ACME' and 'acme' of partner 'p' would share the file name acme"), "\(result.stderr)")
        #expect(allEntries(temp.url) == before)
    }

    @Test("a partner named like a file of the run, or two partners differing in case: an error, nothing written",
          arguments: [("summary.json", "p"), ("Alfa", "alfa")])
    func partnerCollision(_ first: String, _ second: String) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        _ = try temp.file("clients.csv", "client_id,name,email,partner_id\nc1,A,a@example.com,\(first)\nc2,B,b@example.com,\(second)\n")
        _ = try temp.file("transactions.csv", Self.transactionsHeader + "t1,2024-03-02T10:00:00+03:00,c1,topup,,1,,\n")
        let before = allEntries(temp.url)
        let result = try Self.render(temp, ["clients.csv", "transactions.csv"])
        #expect(result.status == 1)
        #expect(result.stderr.contains(first == "summary.json" ? "partner 'summary.json' would get the folder summary.json" : "partners 'Alfa' and 'alfa' would share the folder"), "\(result.stderr)")
        #expect(allEntries(temp.url) == before)
    }

    @Test("the collision check sees letter case and run files (unit)")
    func collisionCheckUnit() throws {
        #expect(ReportRenderer.quoted("a\u{1}b") == "'a\\u{1}b'")
        #expect(ReportRenderer.quoted(String(repeating: "x", count: 200)).hasSuffix("… (200 bytes)'"))
    }

    @Test("symlinks planted in an earlier output, or as the output folder, are refused and never followed")
    func plantedSymlinks() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let victim = temp.url.appendingPathComponent("victim")
        try FileManager.default.createDirectory(at: victim, withIntermediateDirectories: true)
        _ = try temp.file("victim/keep.txt", "precious")
        let out = temp.url.appendingPathComponent("out")
        let first = try SpawnedProcess.run(["render", "--period", "2024-03", "--quiet", "--out", out.path] + Repository.sampleFiles)
        #expect(first.status == 0, "\(first.stderr)")
        // Inside the earlier output: a partner folder and summary.json are replaced by links.
        try FileManager.default.removeItem(at: out.appendingPathComponent("alfa-cloud"))
        try FileManager.default.removeItem(at: out.appendingPathComponent("summary.json"))
        try FileManager.default.createSymbolicLink(atPath: out.appendingPathComponent("alfa-cloud").path, withDestinationPath: victim.path)
        try FileManager.default.createSymbolicLink(atPath: out.appendingPathComponent("summary.json").path, withDestinationPath: victim.appendingPathComponent("keep.txt").path)
        let victimBefore = allEntries(victim)
        let outBefore = allEntries(out)
        let planted = try SpawnedProcess.run(["render", "--period", "2024-03", "--quiet", "--out", out.path] + Repository.sampleFiles)
        #expect(planted.status == 1)
        #expect(planted.stderr.contains("holds alfa-cloud, which balance-report did not write"), "\(planted.stderr)")
        #expect(allEntries(victim) == victimBefore)
        #expect(allEntries(out) == outBefore)
        #expect(try String(contentsOf: victim.appendingPathComponent("keep.txt"), encoding: .utf8) == "precious")

        // The output folder itself is a link: refused, the link and its target untouched.
        let linked = temp.url.appendingPathComponent("linked-out")
        try FileManager.default.createSymbolicLink(atPath: linked.path, withDestinationPath: victim.path)
        let refused = try SpawnedProcess.run(["render", "--period", "2024-03", "--quiet", "--out", linked.path] + Repository.sampleFiles)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("is a symbolic link"), "\(refused.stderr)")
        #expect(allEntries(victim) == victimBefore)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: linked.path) == victim.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.url.path).sorted() == ["linked-out", "out", "victim"])
    }

    /// The parser caps one amount at 10^12 units; sums are `Int128` micro-units (≈1.7·10^38), so
    /// no number of records can overflow: 3 000 maximal top-ups and charges sum exactly.
    @Test("totals of thousands of maximal amounts are exact; a larger amount is refused with its reason")
    func moneyLimits() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        var text = Self.transactionsHeader
        let count = 3_000
        for index in 0..<count {
            text += "u\(index),2024-03-02T10:00:00+03:00,c1,topup,,1000000000000,,\n"
            text += "c\(index),2024-03-03T10:00:00+03:00,c1,charge,Compute,999999999999.999999,,\n"
        }
        _ = try temp.file("max.csv", text)
        let result = try Self.render(temp, ["max.csv"], out: "out")
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try String(contentsOf: temp.url.appendingPathComponent("out/summary.json"), encoding: .utf8)
        #expect(summary.contains("3000000000000000.00"), "top-ups of 3000 × 10^12")
        #expect(summary.contains("2999999999999999.997"), "charges of 3000 × (10^12 − 10^-6)")
        let snapshot = try String(contentsOf: temp.url.appendingPathComponent("out/default/snapshot.csv"), encoding: .utf8)
        #expect(snapshot.contains(",0.00,3000000000000000.00,2999999999999999.997,0.00,0.00,0.003,0.00,\n"), "\(snapshot)")

        _ = try temp.file("over.csv", Self.transactionsHeader + "t1,2024-03-02T10:00:00+03:00,c1,topup,,1000000000000.000001,,\n")
        let over = try Self.render(temp, ["over.csv"], out: "out2")
        #expect(over.status == 1)
        #expect(over.stderr.contains("over.csv:2: amount is too large"), "\(over.stderr)")
        #expect(!FileManager.default.fileExists(atPath: temp.url.appendingPathComponent("out2").path))
    }

    @Test("a header-only file adds nothing: same reports, listed with 0 records")
    func headerOnly() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let empty = try temp.file("empty-transactions.csv", Self.transactionsHeader)
        let a = try SpawnedProcess.run(["render", "--period", "2024-03", "--quiet", "--out", temp.url.appendingPathComponent("a").path] + Repository.sampleFiles)
        let b = try SpawnedProcess.run(["render", "--period", "2024-03", "--quiet", "--out", temp.url.appendingPathComponent("b").path] + Repository.sampleFiles + [empty])
        #expect(a.status == 0 && b.status == 0, "\(b.stderr)")
        let files = fileTree(temp.url.appendingPathComponent("a"))
        #expect(files == fileTree(temp.url.appendingPathComponent("b")))
        // summary.json names the files read; the marker holds its SHA-256.
        for file in files where file != "summary.json" && file != ".balance-report-output" {
            #expect(try Data(contentsOf: temp.url.appendingPathComponent("a/" + file)) == Data(contentsOf: temp.url.appendingPathComponent("b/" + file)), "\(file)")
        }
        let validate = try SpawnedProcess.run(["validate", "--period", "2024-03", empty])
        #expect(validate.status == 0)
        #expect(validate.stderr.contains("empty-transactions.csv [csv transaction]: 0 records"), "\(validate.stderr)")
    }
}
