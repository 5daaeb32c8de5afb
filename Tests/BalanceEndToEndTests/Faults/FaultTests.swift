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

/// Issue 4 / HOSTILE-CHECKLIST #14: faults while writing. A run killed at any moment, a full disk,
/// an unwritable or missing output parent and broken templates leave `--out` holding the complete
/// previous output or the complete new one — never a mix — with a clear message and exit 1.
@Suite("Faults: kills, full disks, unwritable folders, broken templates", .serialized)
struct FaultTests {
    /// Path → bytes of every file below `root`, links and folders by name.
    static func snapshot(_ root: URL) -> [String: Data] {
        var result: [String: Data] = [:]
        for entry in allEntries(root) {
            let url = root.appendingPathComponent(entry)
            var info = stat()
            guard lstat(url.path, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFREG: result[entry] = (try? Data(contentsOf: url)) ?? Data("<unreadable>".utf8)
            case S_IFDIR: result[entry] = Data("<folder>".utf8)
            default: result[entry] = Data("<other>".utf8)
            }
        }
        return result
    }

    /// A sizeable export: 400 clients of 5 partners, 12 000 transactions (about 2 s and 11 MB of
    /// output for a debug build).
    static func writeSizeableExport(in folder: URL, seed: UInt64 = 7) throws -> [String] {
        var random = SplitMix64(seed: seed)
        var clients = "client_id,name,email,partner_id\n"
        var transactions = "id,timestamp,client_id,type,service,amount,currency,description\n"
        var number = 0
        for client in 0..<400 {
            clients += "c\(client),Client \(client),c\(client)@example.com,p\(client % 5)\n"
            for _ in 0..<30 {
                number += 1
                let kind = ["topup", "charge", "charge", "refund"][Int(random.next() % 4)]
                let service = kind == "topup" ? "" : ["Compute", "Storage", "CDN"][Int(random.next() % 3)]
                let day = Int(random.next() % 31) + 1
                transactions += "t\(number),2024-03-\(day < 10 ? "0" : "")\(day)T10:00:00+03:00,c\(client),\(kind),\(service),\(random.next() % 100_000 + 1).25,,\n"
            }
        }
        let a = folder.appendingPathComponent("clients.csv").path
        let b = folder.appendingPathComponent("transactions.csv").path
        try Data(clients.utf8).write(to: URL(fileURLWithPath: a))
        try Data(transactions.utf8).write(to: URL(fileURLWithPath: b))
        return [a, b]
    }

    static func render(_ out: URL, _ files: [String], extra: [String] = []) throws -> SpawnedProcess.Result {
        try SpawnedProcess.run(["render", "--period", "2024-03", "--quiet", "--out", out.path] + extra + files)
    }

    static func stagingFolders(in folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasPrefix(".balance-report-staging-") }.sorted()
    }

    @Test("SIGKILL at random moments: --out is always the complete old or the complete new output; leftovers are cleaned up")
    func killedRuns() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let inputs = temp.url.appendingPathComponent("inputs")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        let big = try Self.writeSizeableExport(in: inputs)
        let work = temp.url.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let out = work.appendingPathComponent("out")

        // The two complete outputs, rendered undisturbed elsewhere.
        let referenceOld = temp.url.appendingPathComponent("ref-old")
        let referenceNew = temp.url.appendingPathComponent("ref-new")
        let timed = Date()
        #expect(try Self.render(referenceNew, big).status == 0)
        let fullRun = Date().timeIntervalSince(timed)
        let timedOld = Date()
        #expect(try Self.render(referenceOld, Repository.sampleFiles).status == 0)
        // On a loaded machine the small run takes longer too: kills are spread over its own length.
        let oldRun = max(0.3, Date().timeIntervalSince(timedOld) * 1.5)
        let old = Self.snapshot(referenceOld)
        let new = Self.snapshot(referenceNew)
        #expect(old != new && new.count > 500)

        #expect(try Self.render(out, Repository.sampleFiles).status == 0)
        var current = old
        var random = SplitMix64(seed: 20_240_301)
        var sawOld = 0, sawNew = 0, killed = 0
        // At least seven runs, and more (up to twenty) until three were really killed: how many
        // kills land before a run ends depends on the machine's load.
        for iteration in 0..<20 {
            if iteration >= 7 && killed >= 3 && sawOld > 0 { break }
            let renderNew = current == old
            let process = try SpawnedProcess(["render", "--period", "2024-03", "--quiet", "--out", out.path] + (renderNew ? big : Repository.sampleFiles))
            // Somewhere from the start of the process to a little after a full run would end.
            let delay = Double(random.next() % 1_000) / 1_000 * (renderNew ? fullRun * 1.2 : oldRun)
            usleep(UInt32(delay * 1_000_000))
            process.kill(SIGKILL)
            let result = process.wait()
            if result.status == -SIGKILL { killed += 1 }
            let now = Self.snapshot(out)
            let isOld = now == old
            let isNew = now == new
            #expect(isOld || isNew, "after a kill at \(delay) s --out is a mix: \(now.count) entries (old \(old.count), new \(new.count))")
            if isNew { sawNew += 1; current = new } else if isOld { sawOld += 1; current = old } else { break }
        }
        #expect(killed >= 3, "too few runs were actually killed (\(killed)); the input is too small for this machine")
        #expect(sawOld > 0, "no kill landed before the publish")

        // Leftover staging folders never break the next run, and the next run removes those that
        // are abandoned (unlocked and older than a few seconds).
        let leftovers = Self.stagingFolders(in: work)
        let past = timeval(tv_sec: time(nil) - 3_600, tv_usec: 0)
        for name in leftovers {
            var times = [past, past]
            #expect(utimes(work.appendingPathComponent(name).path, &times) == 0)
        }
        let next = try Self.render(out, Repository.sampleFiles)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(Self.snapshot(out) == old)
        #expect(Self.stagingFolders(in: work).isEmpty, "left: \(Self.stagingFolders(in: work)) of \(leftovers)")
    }

    @Test("a staging folder is removed only when no live run holds it; a folder not yet named staging only when not brand new")
    func abandonedStagingRules() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let parent = temp.url.path
        func make(_ name: String, age: Int) throws -> String {
            let path = parent + "/" + name
            try FileManager.default.createDirectory(atPath: path + "/p/clients", withIntermediateDirectories: true)
            try Data("x".utf8).write(to: URL(fileURLWithPath: path + "/p/clients/c.csv"))
            let stamp = timeval(tv_sec: time(nil) - age, tv_usec: 0)
            var times = [stamp, stamp]
            _ = utimes(path, &times)
            return path
        }
        _ = try make(".balance-report-staging-dead01", age: 600)
        let live = try make(".balance-report-staging-live01", age: 600)
        // Unlocked, a staging folder is abandoned however young (issue 19: the run right after a kill removes it).
        _ = try make(".balance-report-staging-young1", age: 0)
        _ = try make("not-staging", age: 600)
        for (name, age) in [(".balance-report-new-young1", 0), (".balance-report-new-old001", 600)] {
            let path = parent + "/" + name
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            let stamp = timeval(tv_sec: time(nil) - age, tv_usec: 0)
            var times = [stamp, stamp]
            _ = utimes(path, &times)
        }
        let lock = ReportWriter.lockFolder(live)
        #expect(lock >= 0)
        defer { close(lock) }
        let removed = ReportWriter.removeAbandonedStaging(in: parent)
        #expect(removed == [".balance-report-new-old001", ".balance-report-staging-dead01", ".balance-report-staging-young1"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).sorted()
                == [".balance-report-new-young1", ".balance-report-staging-live01", "not-staging"])
        // A writer holds the lock on its own staging folder while it lives.
        let writer = try ReportWriter(destination: parent + "/out")
        #expect(ReportWriter.lockFolder(writer.staging) == -1)
    }

    @Test("a symlink named like a staging folder is neither followed nor removed")
    func stagingSymlinkNotFollowed() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let victim = temp.url.appendingPathComponent("victim")
        try FileManager.default.createDirectory(at: victim.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("precious".utf8).write(to: victim.appendingPathComponent("sub/keep.txt"))
        let past = timeval(tv_sec: time(nil) - 600, tv_usec: 0)
        var times = [past, past]
        #expect(utimes(victim.path, &times) == 0)
        let link = temp.url.appendingPathComponent(".balance-report-staging-evil01")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: victim)
        #expect(ReportWriter.removeAbandonedStaging(in: temp.url.path).isEmpty)
        #expect(try String(contentsOf: victim.appendingPathComponent("sub/keep.txt"), encoding: .utf8) == "precious")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == victim.path)
    }

    /// Mounts a tmpfs (root only); `nil` when this machine does not allow it.
    static func mountTmpfs(_ folder: URL, options: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/mount")
        process.arguments = ["-t", "tmpfs", "-o", options, "tmpfs", folder.path]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    static func unmount(_ folder: URL) {
        _ = umount2(folder.path, Int32(MNT_DETACH))
    }

    /// Whether this machine lets the tests mount a tmpfs (root with CAP_SYS_ADMIN): tried once.
    static let canMount: Bool = {
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/bin/mount"),
              let probe = try? TemporaryFolder() else { return false }
        defer { probe.cleanup() }
        guard mountTmpfs(probe.url, options: "size=64k") else { return false }
        unmount(probe.url)
        return true
    }()

    @Test("a full disk (ENOSPC on a 1 MiB tmpfs): clear message, exit 1, the old output intact, no staging left", .enabled(if: canMount))
    func fullDisk() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let inputs = temp.url.appendingPathComponent("inputs")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        let big = try Self.writeSizeableExport(in: inputs)
        let disk = temp.url.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        try #require(Self.mountTmpfs(disk, options: "size=1m"), "cannot mount a tmpfs here")
        defer { Self.unmount(disk) }
        let out = disk.appendingPathComponent("out")
        let first = try Self.render(out, Repository.sampleFiles)
        try #require(first.status == 0, "the sample output must fit: \(first.stderr)")
        let before = Self.snapshot(out)

        let full = try Self.render(out, big)
        #expect(full.status == 1)
        #expect(full.stderr.contains("No space left on device"), "\(full.stderr)")
        #expect(full.stderr.contains("balance-report: error: cannot "), "\(full.stderr)")
        #expect(Self.snapshot(out) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: disk.path) == ["out"], "a staging folder was left behind")
    }

    @Test("an unwritable (read-only) output parent: clear message, exit 1, nothing written", .enabled(if: canMount))
    func readOnlyParent() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let disk = temp.url.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        try #require(Self.mountTmpfs(disk, options: "ro,size=1m"), "cannot mount a tmpfs here")
        defer { Self.unmount(disk) }
        let result = try Self.render(disk.appendingPathComponent("out"), Repository.sampleFiles)
        #expect(result.status == 1)
        #expect(result.stderr.contains("balance-report: error: cannot create a staging folder in \(disk.path): Read-only file system"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: disk.path).isEmpty)
    }

    @Test("a missing output parent, or a parent that is a file: clear message, exit 1, nothing written")
    func missingParent() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let missing = temp.url.appendingPathComponent("no/such")
        let result = try Self.render(missing.appendingPathComponent("out"), Repository.sampleFiles)
        #expect(result.status == 1)
        #expect(result.stderr.contains("balance-report: error: the folder \(missing.path) that would hold \(missing.path)/out does not exist"), "\(result.stderr)")
        let file = try temp.file("plain-file", "x")
        let underFile = try Self.render(URL(fileURLWithPath: file).appendingPathComponent("out"), Repository.sampleFiles)
        #expect(underFile.status == 1)
        #expect(underFile.stderr.contains("does not exist"), "\(underFile.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.url.path) == ["plain-file"])
    }

    @Test("a template with a syntax error, or a missing template: exit 1 naming it, the previous output intact",
          arguments: ["syntax", "missing"])
    func brokenTemplates(_ fault: String) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out")
        #expect(try Self.render(out, Repository.sampleFiles).status == 0)
        let before = Self.snapshot(out)
        let templates = temp.url.appendingPathComponent("templates")
        try FileManager.default.copyItem(at: Repository.root.appendingPathComponent("Templates/ru"), to: templates)
        let target = templates.appendingPathComponent("snapshot.csv.mustache")
        if fault == "syntax" {
            let source = try String(contentsOf: target, encoding: .utf8)
            try Data(("{{#clients}}\n" + source).utf8).write(to: target)
        } else {
            try FileManager.default.removeItem(at: target)
        }
        let result = try Self.render(out, Repository.sampleFiles, extra: ["--templates", templates.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("balance-report: error:") && result.stderr.contains("snapshot.csv.mustache"), "\(result.stderr)")
        #expect(Self.snapshot(out) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.url.path).sorted() == ["out", "templates"])
    }
}
