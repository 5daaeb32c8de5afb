import Foundation
import Glibc
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

/// Protections of issues 8 and 9 that a mutation run (each protection removed in turn) found no
/// test failing for. Each test here fails when the protection named in its title is removed.
@Suite("Protections found untested by mutation (issues 8, 9)", .serialized)
struct ProtectionMutationTests: ModelBuilders {
    static let transactionsHeader = SafetyTests.transactionsHeader

    /// A marker naming `files`, written into `folder` (made when missing).
    static func plantMarker(in folder: String, _ lines: [String]) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let text = ([OutputFolder.markerHeader] + lines).map { $0 + "\n" }.joined()
        try Data(text.utf8).write(to: URL(fileURLWithPath: folder + "/" + OutputFolder.markerName))
    }

    /// Makes `path` look older than a run that is just starting.
    static func age(_ path: String) {
        let past = timeval(tv_sec: time(nil) - 600, tv_usec: 0)
        var times = [past, past]
        _ = utimes(path, &times)
    }

    /// Starts `script` (sh) writing into the named pipe `fifo` of `folder`; the writer ends by
    /// SIGPIPE once the reader closes the pipe.
    static func feed(_ fifo: String, in folder: URL, _ script: String) throws -> SpawnedProcess {
        try SpawnedProcess(executable: "/bin/sh", ["-c", "(\(script)) > \(fifo) 2>/dev/null"], in: folder)
    }

    // MARK: --out

    @Test("a marker listing a path outside its folder is no marker: the folder is refused, nothing beside it deleted",
          arguments: ["../victim.txt", "p/../../victim.txt", "/victim.txt", "./victim.txt", "p//victim.txt", "p/"])
    func forgedMarkerPaths(_ line: String) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        _ = try temp.file("victim.txt", "precious")
        let out = temp.url.appendingPathComponent("out").path
        try Self.plantMarker(in: out, ["period 2024-03-01 2024-03-31", line])
        #expect(OutputFolder.Marker.read(folder: out) == nil)
        #expect(throws: Diagnostic.self) { try OutputFolder.check(out, inputs: []) }
        // Even past the check, publishing must not take the forged list for the output's files.
        let writer = try ReportWriter(destination: out)
        try writer.write("p/index.html", Array("new".utf8))
        #expect(throws: Diagnostic.self) { try writer.publish() }
        #expect(try String(contentsOf: temp.url.appendingPathComponent("victim.txt"), encoding: .utf8) == "precious")
    }

    @Test("an earlier output holding an empty folder it did not make is refused, naming the folder")
    func strangerEmptyFolder() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out").path
        let first = try ReportWriter(destination: out)
        try first.write("p/index.html", Array("old".utf8))
        try first.publish()
        try FileManager.default.createDirectory(atPath: out + "/p/archive", withIntermediateDirectories: true)
        let error = #expect(throws: Diagnostic.self) { try OutputFolder.check(out, inputs: []) }
        #expect(error?.message.contains("holds p/archive/, which balance-report did not write") == true, "\(String(describing: error))")
        #expect(FileManager.default.fileExists(atPath: out + "/p/archive"))
    }

    @Test("an abandoned staging folder holding an earlier output loses only what its marker lists")
    func abandonedStagingDeletesOnlyListed() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let staging = temp.url.appendingPathComponent(".balance-report-staging-prev01").path
        try Self.plantMarker(in: staging, ["p/index.html"])
        try FileManager.default.createDirectory(atPath: staging + "/p", withIntermediateDirectories: true)
        _ = try temp.file(".balance-report-staging-prev01/p/index.html", "old")
        _ = try temp.file(".balance-report-staging-prev01/p/notes.txt", "mine")
        Self.age(staging)
        ReportWriter.removeAbandonedStaging(in: temp.url.path)
        #expect(!FileManager.default.fileExists(atPath: staging + "/p/index.html"))
        #expect(try String(contentsOfFile: staging + "/p/notes.txt", encoding: .utf8) == "mine")
    }

    @Test("a file that lands in the swapped-out output after the swap survives the next run's clean-up")
    func strangerAfterSwapSurvivesCleanup() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        // What a publish leaves at its staging path: the previous output, into which a program
        // whose working folder was inside it wrote a file after the swap.
        let staging = temp.url.appendingPathComponent(".balance-report-staging-swap01").path
        try Self.plantMarker(in: staging, ["p/index.html"])
        try FileManager.default.createDirectory(atPath: staging + "/p", withIntermediateDirectories: true)
        _ = try temp.file(".balance-report-staging-swap01/p/index.html", "old")
        _ = try temp.file(".balance-report-staging-swap01/p/late.txt", "mine")
        let marker = try #require(OutputFolder.Marker.read(folder: staging))
        ReportWriter.removeListed(staging, marker: marker, workers: 2)
        #expect(!FileManager.default.fileExists(atPath: staging + "/p/index.html"))
        #expect(FileManager.default.fileExists(atPath: staging + "/p/late.txt"))
        // A later run finds the leftover: it still deletes only what the old output listed.
        Self.age(staging)
        ReportWriter.removeAbandonedStaging(in: temp.url.path)
        #expect(try String(contentsOfFile: staging + "/p/late.txt", encoding: .utf8) == "mine")
    }

    // MARK: Refused files stop being read at once

    @Test("a refused header stops the reading: an endless stream after it is never read")
    func refusedHeaderStopsReading() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        #expect(mkfifo(temp.url.appendingPathComponent("fifo").path, 0o600) == 0)
        for (script, expected) in [
            ("yes 'x,y,z'", "fifo:1: cannot tell the kind of export"),
            // A header that cannot be read; what follows looks like a header, then endless rows.
            ("printf '\"a\"b,c\\n'; yes 'client_id,timestamp,type'", "fifo:1: the header is malformed"),
        ] {
            let writer = try Self.feed("fifo", in: temp.url, script)
            let result = try SafetyTests.runBounded(["validate", "--quiet", "fifo"], in: temp.url, seconds: 15)
            writer.kill()
            _ = writer.wait()
            #expect(result.status == 1, "\(script): \(result.stderr.prefix(300))")
            #expect(result.stderr.contains(expected), "\(script): \(result.stderr.prefix(300))")
        }
    }

    @Test("a contacts file is refused at its first problem: an endless stream after it is never read")
    func contactsStopAtFirstProblem() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let inputs = try SafetyTests.copySamples(into: temp.url)
        #expect(mkfifo(temp.url.appendingPathComponent("fifo").path, 0o600) == 0)
        for (script, expected) in [
            ("yes 'x,y'", "fifo:1: the header must name partner_id and email"),
            ("printf 'partner_id,email\\n\"a\"b,c\\n'; yes 'p1,a@example.com'", "fifo:2: unexpected text after a closing quote"),
        ] {
            let writer = try Self.feed("fifo", in: temp.url, script)
            let result = try SafetyTests.runBounded(["render", "--period", "2024-03", "--quiet", "--templates", HostileCorpusTests.templates,
                                                     "--out", "out", "--eml", "--contacts", "fifo"] + inputs, in: temp.url, seconds: 15)
            writer.kill()
            _ = writer.wait()
            #expect(result.status == 1, "\(script): \(result.stderr.prefix(300))")
            #expect(result.stderr.contains(expected), "\(script): \(result.stderr.prefix(300))")
        }
    }

    @Test("inputs that cannot be opened stop the run before any file is read; a refused file is the last one read")
    func nothingReadAfterAFileFailure() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        _ = try temp.file("bad1.csv", "x,y\n1,2\n")
        _ = try temp.file("bad2.csv", "u,v\n1,2\n")
        let missing = try SpawnedProcess.run(["validate", "--quiet", "missing.csv", "bad1.csv"], in: temp.url)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("missing.csv: cannot open"), "\(missing.stderr)")
        #expect(!missing.stderr.contains("bad1.csv"), "\(missing.stderr)")
        let refused = try SpawnedProcess.run(["validate", "--quiet", "bad1.csv", "bad2.csv"], in: temp.url)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("bad1.csv:1: cannot tell the kind of export"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("bad2.csv"), "\(refused.stderr)")
    }

    @Test("a gzipped XML export whose gzip trailer is cut off is refused, although its document is complete")
    func gzipXMLTrailerCut() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let inputs = try SafetyTests.copySamples(into: temp.url)
        let xml = try #require(inputs.first { $0.hasSuffix(".xml") })
        let gzip = try SpawnedProcess(executable: "/bin/sh", ["-c", "gzip -c \(xml) > x.xml.gz && head -c -4 x.xml.gz > cut.xml.gz"], in: temp.url)
        #expect(gzip.wait().status == 0)
        let whole = try SpawnedProcess.run(["validate", "--quiet", "--period", "2024-03"] + inputs.map { $0 == xml ? "x.xml.gz" : $0 }, in: temp.url)
        #expect(whole.status == 0, "\(whole.stderr)")
        let cut = try SpawnedProcess.run(["validate", "--quiet", "--period", "2024-03"] + inputs.map { $0 == xml ? "cut.xml.gz" : $0 }, in: temp.url)
        #expect(cut.status == 1)
        #expect(cut.stderr.contains("error: cut.xml.gz: the gzip data is cut short"), "\(cut.stderr)")
    }

    // MARK: Superseding exports

    @Test("a row of a superseding layout without a readable export time is rejected, never summed beside the latest export",
          arguments: ["", "yesterday"])
    func supersedeNeedsAVersion(_ version: String) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let fixture = try String(contentsOf: Repository.root.appendingPathComponent("sample-data/yandex/yc-2024-03-05-final.csv"), encoding: .utf8)
        let lines = fixture.split(separator: "\n").map(String.init)
        _ = try temp.file("final.csv", lines[0] + "\n" + lines[1] + "\n")
        // The same row again, its exported_at (the last column) unreadable.
        let again = lines[1].split(separator: ",", omittingEmptySubsequences: false).dropLast().joined(separator: ",") + "," + version
        _ = try temp.file("again.csv", lines[0] + "\n" + again + "\n")
        let result = try SpawnedProcess.run(["validate", "--period", "2024-03", "--profile", "yandex-cloud-partner", "final.csv", "again.csv"], in: temp.url)
        #expect(result.status == 1)
        let reason = version.isEmpty ? "the export time is empty" : "the export time is not a timestamp"
        #expect(result.stderr.contains("again.csv:2: \(reason) (the profile's supersede version)"), "\(result.stderr)")
        #expect(result.stderr.contains("again.csv [csv transaction]: 2 records: rejected 2"), "\(result.stderr)")
    }

    // MARK: Ids as bytes

    @Test("ByteKey compares and hashes bytes: Ёлка in NFC and in NFD are two keys")
    func byteKeys() {
        let nfc = "\u{0401}лка"
        let nfd = "\u{0415}\u{0308}лка"
        #expect(nfc == nfd)
        #expect(ByteKey(nfc) != ByteKey(nfd))
        #expect(ByteKey(nfc) == ByteKey(String(decoding: Array(nfc.utf8), as: UTF8.self)))
        #expect(Set([ByteKey(nfc), ByteKey(nfd)]).count == 2)
        let table: [ByteKey: Int] = [ByteKey(nfc): 1]
        #expect(table[ByteKey(nfd)] == nil)
    }

    @Test("one transaction id with client ids that differ only in normalisation is a conflict, never a duplicate")
    func lookalikeClientInOneID() throws {
        let nfc = "\u{0401}лка"
        let nfd = "\u{0415}\u{0308}лка"
        let e = export([
            tx("t1", "2024-03-01T10:00:00+03:00", client: nfc, .charge, service: "S", "10.00", line: 2),
            tx("t1", "2024-03-01T10:00:00+03:00", client: nfd, .charge, service: "S", "10.00", line: 3),
        ], clients: [clientRecord(nfc)])
        let ledger = Ledger.build(from: e)
        #expect(ledger.duplicates.isEmpty)
        #expect(ledger.rejections.count == 2)
        // The later one says how it differs: in the client id's bytes.
        #expect(ledger.rejections.contains { $0.reason.hasSuffix("(different client_id)") }, "\(ledger.rejections.map(\.reason))")
        #expect(ledger.clients[ByteKey(nfc)]?.transactions.isEmpty == true)
    }

    @Test("3,000 records of one id: each conflict names five places and how many more")
    func conflictReasonsAreCapped() throws {
        let records = (0..<3_000).map { index in
            tx("t1", "2024-03-01T10:00:00+03:00", client: "c1", .topup, "\(index + 1)", line: index + 2)
        }
        let ledger = Ledger.build(from: export(records, clients: [clientRecord("c1")]))
        #expect(ledger.rejections.count == 3_000)
        for rejection in ledger.rejections {
            #expect(rejection.reason.contains(" and 2994 more"), "\(rejection.reason.prefix(300))")
            #expect(rejection.reason.utf8.count < 400, "\(rejection.reason.prefix(300))")
        }
    }

    // MARK: Escaping

    @Test("every bidi control is escaped on the terminal and shown in HTML, also without any other control around it",
          arguments: [0x061C, 0x200E, 0x200F, 0x202A, 0x202E, 0x2066, 0x2069] as [UInt32])
    func loneBidiControls(_ value: UInt32) throws {
        let scalar = try #require(Unicode.Scalar(value))
        let text = "a" + String(Character(scalar)) + "b"
        let hex = String(value, radix: 16, uppercase: true)
        #expect(Escaping.terminal(text) == "a\\u{\(hex)}b")
        #expect(Escaping.html(text) == "a[U+\(hex)]b")
    }
}
