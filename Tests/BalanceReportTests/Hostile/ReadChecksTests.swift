import Foundation
import Testing
@testable import BalanceReport

/// Issue 19, "what it reads, it checks": outputs never over inputs, templates never through links,
/// only the rendered bytes sent, no currencies subtracted, no forged parts merged, bounded bombs.
@Suite("What it reads, it checks (issue 19)")
struct ReadChecksTests {
    static let transactions = "id,timestamp,client_id,type,service,amount,currency,description\nt1,2024-03-05T10:00:00+03:00,c1,topup,,100.00,RUB,\n"

    static func read(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    // MARK: 1. split-export never writes over what it reads

    @Test("split-export refuses --rows or --part naming the export it reads, both the same path, or a stranger's file; the export is untouched")
    func splitExportOutputs() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let export = try temp.file("t.csv", Self.transactions)
        let original = Self.read(export)
        let p = temp.url.path + "/p.json", r = temp.url.path + "/r.tsv"
        let cases: [([String], String)] = [
            (["--rows", export, "--part", p], "is the export file split-export reads"),
            (["--rows", r, "--part", export], "is the export file split-export reads"),
            (["--rows", temp.url.path + "/./t.csv", "--part", p], "is the export file split-export reads"),
            (["--rows", r, "--part", r], "each output needs a path of its own"),
        ]
        for (options, message) in cases {
            let result = try BalanceReportBinary.run(["split-export"] + options + [export])
            #expect(result.status == 1, "\(options)")
            #expect(result.stderr.contains(message), "\(options): \(result.stderr)")
            #expect(Self.read(export) == original, "\(options) changed the export")
        }
        #expect(!FileManager.default.fileExists(atPath: p) && !FileManager.default.fileExists(atPath: r))
        // A hard link to the export is the export.
        let linked = temp.url.path + "/linked.tsv"
        try FileManager.default.linkItem(atPath: export, toPath: linked)
        let hard = try BalanceReportBinary.run(["split-export", "--rows", linked, "--part", p, export])
        #expect(hard.status == 1 && hard.stderr.contains("is the export file"), "\(hard.stderr)")
        #expect(Self.read(export) == original)
        // A file of the user's is not replaced; the tool's own outputs are (a second run).
        let notes = try temp.file("notes.txt", "my notes\n")
        let stranger = try BalanceReportBinary.run(["split-export", "--rows", notes, "--part", p, export])
        #expect(stranger.status == 1 && stranger.stderr.contains("is not a rows file balance-report wrote"), "\(stranger.stderr)")
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == "my notes\n")
        let strangerPart = try BalanceReportBinary.run(["split-export", "--rows", r, "--part", notes, export])
        #expect(strangerPart.status == 1 && strangerPart.stderr.contains("is not a summary part"), "\(strangerPart.stderr)")
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == "my notes\n")
        let first = try BalanceReportBinary.run(["split-export", "--rows", r, "--part", p, export])
        #expect(first.status == 0, "\(first.stderr)")
        let rows = Self.read(r)
        let again = try BalanceReportBinary.run(["split-export", "--rows", r, "--part", p, export])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(Self.read(r) == rows)
        #expect(Self.read(export) == original)
    }

    // MARK: 2. templates never through a link

    @Test("a template that is a symbolic link (to /etc/passwd) is refused, nothing published")
    func templateSymlink() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let tpl = temp.url.path + "/tpl"
        #expect(try BalanceReportBinary.run(["templates", "export", tpl]).status == 0)
        let secret = try temp.file("secret.txt", "root:x:0:0:secret\n")
        try FileManager.default.removeItem(atPath: tpl + "/snapshot.csv.mustache")
        try FileManager.default.createSymbolicLink(atPath: tpl + "/snapshot.csv.mustache", withDestinationPath: secret)
        let out = temp.url.path + "/out"
        let result = try BalanceReportBinary.run(["render", "--period", "2024-03", "--templates", tpl, "--out", out] + Repository.sampleFiles)
        #expect(result.status != 0)
        #expect(result.stderr.contains("snapshot.csv.mustache: a symbolic link"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
