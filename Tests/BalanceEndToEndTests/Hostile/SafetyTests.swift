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

/// Issue 8, each point seen by a new user and a hostile corpus, through the binary: the tool
/// never destroys a folder, never leaks through a refused file, never hangs.
@Suite("Safety: --out, refused files, byte ids, endless inputs, quadratic inputs, terminal escapes", .serialized)
struct SafetyTests {
    static let transactionsHeader = "id,timestamp,client_id,type,service,amount,currency,description\n"

    static func render(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) throws -> SpawnedProcess.Result {
        try SpawnedProcess.run(["render", "--period", "2024-03", "--quiet", "--templates", HostileCorpusTests.templates] + arguments,
                               in: folder, environment: environment)
    }

    /// The sample exports copied into `folder`, as relative paths.
    static func copySamples(into folder: URL) throws -> [String] {
        var names: [String] = []
        for path in Repository.sampleFiles {
            let name = (path as NSString).lastPathComponent
            try FileManager.default.copyItem(atPath: Repository.root.appendingPathComponent(path).path,
                                             toPath: folder.appendingPathComponent(name).path)
            names.append(name)
        }
        return names
    }

    /// Runs the binary, killing it after `seconds`: a hang shows as status -SIGKILL.
    static func runBounded(_ arguments: [String], in folder: URL, seconds: Double) throws -> SpawnedProcess.Result {
        let process = try SpawnedProcess(arguments, in: folder)
        let deadline = DispatchWorkItem { process.kill(SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: deadline)
        let result = process.wait()
        deadline.cancel()
        return result
    }

    // MARK: 1. --out

    @Test("--out of a folder the tool did not make is refused before reading, naming it; nothing in it is touched")
    func foreignFolderRefused() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let inputs = try Self.copySamples(into: temp.url)
        try FileManager.default.createDirectory(at: temp.url.appendingPathComponent("mydocs"), withIntermediateDirectories: true)
        _ = try temp.file("mydocs/plan.docx", "plan")
        let before = allEntries(temp.url)
        let result = try Self.render(["--out", "mydocs"] + inputs, in: temp.url)
        #expect(result.status == 1)
        #expect(result.stderr.contains("--out mydocs is a folder balance-report did not make"), "\(result.stderr)")
        #expect(allEntries(temp.url) == before)
        #expect(try String(contentsOf: temp.url.appendingPathComponent("mydocs/plan.docx"), encoding: .utf8) == "plan")
        // Refused before the inputs are read: a missing input is not even reached.
        let early = try Self.render(["--out", "mydocs", "no-such-input.csv"], in: temp.url)
        #expect(early.status == 1)
        #expect(early.stderr.contains("did not make") && !early.stderr.contains("no-such-input"), "\(early.stderr)")
    }

    @Test("--out that is or holds an input, the working folder, the home folder or / is refused", arguments: [
        "sample", "cwd", "cwd-slash", "home-parent", "root", "input-file",
    ])
    func protectedFolders(_ which: String) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let data = temp.url.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let inputs = try Self.copySamples(into: data).map { "data/" + $0 }
        let home = temp.url.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let (out, reason): (String, String) = switch which {
        case "sample": ("data", "contains the input file data/")
        case "cwd": (temp.url.path, "is the working folder")
        case "cwd-slash": ("./", "is the working folder")
        case "home-parent": (temp.url.path + "/", "contains the home folder")
        case "root": ("/", "the root folder")
        default: ("data/" + inputs[0].split(separator: "/").last!, "is the input file")
        }
        let before = allEntries(temp.url)
        // The home folder's case runs elsewhere, so that only the home folder is inside --out.
        let elsewhere = which == "home-parent"
        let result = try Self.render(["--out", out] + inputs.map { elsewhere ? temp.url.appendingPathComponent($0).path : $0 },
                                     in: elsewhere ? Repository.root : temp.url, environment: ["HOME": home.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains(reason), "\(result.stderr)")
        #expect(allEntries(temp.url) == before)
    }

    @Test("an empty folder, a new folder and an earlier output are replaced; the marker lists every file written")
    func replaceable() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let inputs = try Self.copySamples(into: temp.url)
        try FileManager.default.createDirectory(at: temp.url.appendingPathComponent("empty"), withIntermediateDirectories: true)
        for out in ["empty", "new", "new"] {
            let result = try Self.render(["--out", out] + inputs, in: temp.url)
            #expect(result.status == 0, "\(out): \(result.stderr)")
        }
        let out = temp.url.appendingPathComponent("new")
        let marker = try #require(OutputFolder.Marker.read(folder: out.path))
        #expect(marker.firstDay == CivilDate(year: 2024, month: 3, day: 1) && marker.lastDay == CivilDate(year: 2024, month: 3, day: 31))
        #expect(marker.files == fileTree(out).filter { $0 != OutputFolder.markerName })
        #expect(marker.files.contains("summary.json") && marker.files.contains("alfa-cloud/index.html"))
    }

    @Test("an earlier output holding a file the tool did not write is refused; that file and the output stay")
    func strangerInEarlierOutput() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let inputs = try Self.copySamples(into: temp.url)
        #expect(try Self.render(["--out", "out"] + inputs, in: temp.url).status == 0)
        _ = try temp.file("out/alfa-cloud/notes.txt", "mine")
        let before = allEntries(temp.url)
        let result = try Self.render(["--out", "out"] + inputs, in: temp.url)
        #expect(result.status == 1)
        #expect(result.stderr.contains("holds alfa-cloud/notes.txt, which balance-report did not write"), "\(result.stderr)")
        #expect(allEntries(temp.url) == before)
    }

    @Test("replacing an earlier output deletes only what it lists, even when a file appears during the run")
    func removesOnlyListed() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out").path
        let first = try ReportWriter(destination: out)
        try first.write("p/index.html", Array("old".utf8))
        try first.publish()
        // Checked before the inputs are read; a file appears while they are read.
        try OutputFolder.check(out, inputs: [])
        _ = try temp.file("out/p/late.txt", "mine")
        let second = try ReportWriter(destination: out)
        try second.write("p/index.html", Array("new".utf8))
        #expect(throws: Diagnostic.self) { try second.publish() }
        #expect(try String(contentsOfFile: out + "/p/late.txt", encoding: .utf8) == "mine")
        #expect(try String(contentsOfFile: out + "/p/index.html", encoding: .utf8) == "old")
        // The deletion itself leaves what the marker does not list, and the marker with it.
        let marker = try #require(OutputFolder.Marker.read(folder: out))
        #expect(!OutputFolder.removeOutput(out, marker: marker))
        #expect(fileTree(URL(fileURLWithPath: out)) == [OutputFolder.markerName, "p/late.txt"])
    }

    @Test("the send log in an output survives a re-render")
    func sentLogKept() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let inputs = try Self.copySamples(into: temp.url)
        #expect(try Self.render(["--out", "out"] + inputs, in: temp.url).status == 0)
        _ = try temp.file("out/" + OutputFolder.sentLogName, "start alfa-cloud x\n")
        let again = try Self.render(["--out", "out"] + inputs, in: temp.url)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try String(contentsOf: temp.url.appendingPathComponent("out/" + OutputFolder.sentLogName), encoding: .utf8) == "start alfa-cloud x\n")
    }

    @Test("folders and files get the umask's permissions, not mkdtemp's 0700", arguments: ["022", "027"])
    func permissions(_ mask: String) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let inputs = try Self.copySamples(into: temp.url)
        let command = "umask \(mask) && exec '\(BalanceReportBinary.url.path)' render --period 2024-03 --quiet --templates '\(HostileCorpusTests.templates)' --out out " + inputs.joined(separator: " ")
        let process = try SpawnedProcess(executable: "/bin/sh", ["-c", command], in: temp.url)
        #expect(process.wait().status == 0)
        let umaskBits = mode_t(mask, radix: 8)!
        func mode(_ path: String) -> mode_t {
            var info = stat()
            _ = lstat(temp.url.appendingPathComponent(path).path, &info)
            return info.st_mode & 0o777
        }
        #expect(mode("out") == 0o777 & ~umaskBits)
        #expect(mode("out/alfa-cloud") == 0o777 & ~umaskBits)
        #expect(mode("out/summary.json") == 0o666 & ~umaskBits)
    }

    // MARK: 2–3. File-level failures

    @Test("a refused clients file stops the run also with --allow-rejects: no client falls to partner default",
          arguments: ["clients.csv", "clients.xml"])
    func refusedClientsFile(_ name: String) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let clients = name.hasSuffix(".csv")
            ? "client_id,name,email,partner_id\n\"c1,Open quote,c1@example.com,p\nc2,B,b@example.com,p\n"
            : "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x \"y\">]>\n<export><clients><client client_id=\"c1\" email=\"a@b\"/></clients></export>\n"
        _ = try temp.file(name, clients)
        _ = try temp.file("events.csv", "client_id,timestamp,type\nc1,2024-03-10T00:00:00+03:00,invited\nc1,2024-03-11T00:00:00+03:00,confirmed\n")
        _ = try temp.file("t.csv", Self.transactionsHeader + "t1,2024-03-02T10:00:00+03:00,c1,charge,VM,5,,before confirmation\n")
        let result = try Self.render(["--allow-rejects", "--out", "out", name, "events.csv", "t.csv"], in: temp.url)
        #expect(result.status == 1)
        let expected = name.hasSuffix(".csv") ? "error: clients.csv:2: unterminated quoted field" : "error: clients.xml:2: a DOCTYPE is not allowed"
        #expect(result.stderr.contains(expected), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: temp.url.appendingPathComponent("out").path))
    }

    @Test("a missing, mistyped or folder input stops the run naming the file, with no line 0, also with --allow-rejects")
    func missingInputs() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let inputs = try Self.copySamples(into: temp.url)
        try FileManager.default.createDirectory(at: temp.url.appendingPathComponent("folder"), withIntermediateDirectories: true)
        let result = try Self.render(["--allow-rejects", "--out", "out"] + inputs + ["transactions-2024-03.csvx", "folder"], in: temp.url)
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: transactions-2024-03.csvx: cannot open: No such file or directory"), "\(result.stderr)")
        #expect(result.stderr.contains("error: folder: is a folder, not an export file"), "\(result.stderr)")
        #expect(!result.stderr.contains(":0:") && !result.stderr.contains("--allow-rejects to render"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: temp.url.appendingPathComponent("out").path))
        let validate = try SpawnedProcess.run(["validate", "--quiet", "nope.csv"], in: temp.url)
        #expect(validate.status == 1)
        #expect(validate.stderr.contains("error: nope.csv: cannot open"), "\(validate.stderr)")
    }

    @Test("a clients file with a header and no rows still means the run has clients records")
    func headerOnlyClientsFile() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        _ = try temp.file("clients.csv", "client_id,name,email,partner_id\n")
        _ = try temp.file("t.csv", Self.transactionsHeader + "t1,2024-03-02T10:00:00+03:00,c1,topup,,5,,\n")
        let result = try Self.render(["--out", "out", "clients.csv", "t.csv"], in: temp.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: temp.url.appendingPathComponent("out/default").path))
        let summary = try String(contentsOf: temp.url.appendingPathComponent("out/summary.json"), encoding: .utf8)
        #expect(summary.contains("\"unknown_client\": {\n          \"count\": 1"), "\(summary)")
    }

    // MARK: 4. Ids as bytes

    @Test("a charge for Ёлка in NFD bytes is another account than the client Ёлка in NFC: unknown client, in no report")
    func lookalikeIDs() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let nfc = "\u{0401}лка"
        let nfd = "\u{0415}\u{0308}лка"
        #expect(nfc == nfd && Array(nfc.utf8) != Array(nfd.utf8))
        _ = try temp.file("clients.csv", "client_id,name,email,partner_id\n\(nfc),Ёлка,e@example.com,p\n")
        _ = try temp.file("t.csv", Self.transactionsHeader + "t1,2024-03-02T10:00:00+03:00,\(nfd),charge,VM,777,,\n"
            + "t2,2024-03-02T11:00:00+03:00,\(nfc),topup,,5,,\n")
        let result = try Self.render(["--out", "out", "clients.csv", "t.csv"], in: temp.url)
        #expect(result.status == 0, "\(result.stderr)")
        for file in fileTree(temp.url.appendingPathComponent("out/p")) {
            let text = try String(contentsOf: temp.url.appendingPathComponent("out/p/" + file), encoding: .utf8)
            #expect(!text.contains("777"), "\(file) shows the other account's charge")
        }
        let summary = try String(contentsOf: temp.url.appendingPathComponent("out/summary.json"), encoding: .utf8)
        #expect(summary.contains("\"unknown_client\": {\n          \"count\": 1,\n          \"amount\": \"777.00\""), "\(summary)")
        // Two transaction ids that differ only in normalisation are two records, not a conflict.
        _ = try temp.file("t2.csv", Self.transactionsHeader + "\(nfc),2024-03-02T10:00:00+03:00,\(nfc),topup,,1,,\n"
            + "\(nfd),2024-03-02T10:00:00+03:00,\(nfc),topup,,2,,\n")
        let ids = try Self.render(["--out", "out2", "clients.csv", "t2.csv"], in: temp.url)
        #expect(ids.status == 0, "\(ids.stderr)")
    }

    // MARK: 5. Endless inputs, pipes

    @Test("/dev/urandom as an input or as --contacts is refused at once, never read until killed")
    func endlessInputs() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let inputs = try Self.copySamples(into: temp.url)
        let asInput = try Self.runBounded(["validate", "--quiet", "/dev/urandom"], in: temp.url, seconds: 10)
        #expect(asInput.status == 1, "\(asInput.stderr)")
        #expect(asInput.stderr.contains("/dev/urandom"), "\(asInput.stderr)")
        let asContacts = try Self.runBounded(["render", "--period", "2024-03", "--quiet", "--templates", HostileCorpusTests.templates, "--out", "out", "--eml", "--contacts", "/dev/urandom"] + inputs,
                                             in: temp.url, seconds: 10)
        #expect(asContacts.status == 1, "\(asContacts.stderr)")
        #expect(asContacts.stderr.contains("/dev/urandom"), "\(asContacts.stderr)")
    }

    @Test("a named pipe fed by a writer is read once and never hangs (20 runs)")
    func namedPipe() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let inputs = try Self.copySamples(into: temp.url)
        let transactions = try #require(inputs.first { $0.hasPrefix("transactions-2024-03.csv") })
        let fifo = temp.url.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let reference = try Self.runBounded(["validate", "--period", "2024-03"] + inputs, in: temp.url, seconds: 20)
        for _ in 0..<20 {
            let writer = try SpawnedProcess(executable: "/bin/sh", ["-c", "cat '\(transactions)' > fifo"], in: temp.url)
            let others = inputs.map { $0 == transactions ? "fifo" : $0 }
            let result = try Self.runBounded(["validate", "--period", "2024-03"] + others, in: temp.url, seconds: 20)
            _ = writer.wait()
            #expect(result.status == reference.status, "\(result.stderr)")
            #expect(result.stderr.replacingOccurrences(of: "fifo", with: transactions).split(separator: "\n").filter { !$0.hasPrefix("timing") }
                == reference.stderr.split(separator: "\n").filter { !$0.hasPrefix("timing") })
        }
    }

    @Test("a gzipped export, plain, through a pipe and as two concatenated members, gives the same summary")
    func gzipInputs() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let inputs = try Self.copySamples(into: temp.url)
        let transactions = try #require(inputs.first { $0 == "transactions-2024-03.csv" })
        let gzip = try SpawnedProcess(executable: "/bin/sh", ["-c", "gzip -c \(transactions) > t.csv.gz && head -n 20 \(transactions) | gzip -c > two.csv.gz && tail -n +21 \(transactions) | gzip -c >> two.csv.gz"], in: temp.url)
        #expect(gzip.wait().status == 0)
        let plain = try SpawnedProcess.run(["validate", "--period", "2024-03"] + inputs, in: temp.url)
        for variant in ["t.csv.gz", "two.csv.gz"] {
            let result = try SpawnedProcess.run(["validate", "--period", "2024-03"] + inputs.map { $0 == transactions ? variant : $0 }, in: temp.url)
            #expect(result.status == plain.status)
            #expect(result.stderr.replacingOccurrences(of: variant, with: transactions).split(separator: "\n").filter { !$0.hasPrefix("timing") }
                == plain.stderr.split(separator: "\n").filter { !$0.hasPrefix("timing") })
        }
        // Rendered, the reports are byte-identical (summary.json names the file it read).
        let plainRender = try Self.render(["--out", "plain"] + inputs, in: temp.url)
        let gzipRender = try Self.render(["--out", "gzip"] + inputs.map { $0 == transactions ? "t.csv.gz" : $0 }, in: temp.url)
        #expect(plainRender.status == 0 && gzipRender.status == 0, "\(gzipRender.stderr)")
        let plainFiles = fileTree(temp.url.appendingPathComponent("plain"))
        #expect(plainFiles == fileTree(temp.url.appendingPathComponent("gzip")))
        // The marker holds the SHA-256 of summary.json, which names the file read.
        for file in plainFiles where file != ".balance-report-output" {
            var a = try String(contentsOf: temp.url.appendingPathComponent("plain/" + file), encoding: .utf8)
            let b = try String(contentsOf: temp.url.appendingPathComponent("gzip/" + file), encoding: .utf8)
            if file == "summary.json" { a = a.replacingOccurrences(of: "\"" + transactions, with: "\"t.csv.gz") }
            // unknown-clients.csv names the file of each one's first transaction, too.
            if file == "unknown-clients.csv" { a = a.replacingOccurrences(of: "," + transactions + ",", with: ",t.csv.gz,") }
            #expect(a == b, "\(file) differs between the plain and the gzipped export")
        }
        // Cut short: the file is refused, not read in part.
        let cut = try SpawnedProcess(executable: "/bin/sh", ["-c", "head -c 300 t.csv.gz > cut.csv.gz"], in: temp.url)
        #expect(cut.wait().status == 0)
        let truncated = try SpawnedProcess.run(["validate", "--period", "2024-03"] + inputs.map { $0 == transactions ? "cut.csv.gz" : $0 }, in: temp.url)
        #expect(truncated.status == 1)
        #expect(truncated.stderr.contains("error: cut.csv.gz: the gzip data is cut short"), "\(truncated.stderr)")
    }

    // MARK: 6. Quadratic inputs

    @Test("one id 3,000 times with different amounts: linear memory, each reason names a few places")
    func repeatedConflictingID() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        var text = Self.transactionsHeader
        for index in 0..<3_000 { text += "t1,2024-03-02T10:00:00+03:00,c1,topup,,\(index + 1),,\n" }
        _ = try temp.file("t.csv", text)
        let result = try SpawnedProcess.run(["validate", "--quiet", "t.csv"], in: temp.url)
        #expect(result.status == 1)
        #expect(result.maxRSSKiB < 150 * 1024, "peak RSS \(result.maxRSSKiB) KiB")
        #expect(result.stderr.contains("and 2994 more"), "\(result.stderr.prefix(500))")
    }

    @Test("90,000 block/unblock events of one client are linear")
    func manyEvents() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        var events = "client_id,timestamp,type\nc1,1000000000,invited\nc1,1000000001,confirmed\n"
        for index in 0..<45_000 {
            events += "c1,\(1_000_000_002 + 2 * index),blocked\nc1,\(1_000_000_003 + 2 * index),unblocked\n"
        }
        _ = try temp.file("events.csv", events)
        _ = try temp.file("clients.csv", "client_id,name,email\nc1,C,c@example.com\n")
        let result = try SpawnedProcess.run(["validate", "--quiet", "--period", "2024-03", "clients.csv", "events.csv"], in: temp.url)
        #expect(result.status == 0, "\(result.stderr)")
        // Quadratic took 8 s here; linear takes a fraction of one.
        #expect(result.cpuSeconds < 3, "CPU \(result.cpuSeconds) s")
    }

    @Test("an XML element with 60,000 attributes is refused at once, naming the limit")
    func manyAttributes() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let attributes = (0..<60_000).map { "a\($0)=\"1\"" }.joined(separator: " ")
        _ = try temp.file("x.xml", "<export>\n<transactions>\n<transaction \(attributes)/>\n</transactions></export>\n")
        let result = try SpawnedProcess.run(["validate", "--quiet", "x.xml"], in: temp.url)
        #expect(result.status == 1)
        #expect(result.stderr.contains("an element has more than \(XMLRecordReader.maxAttributes) attributes"), "\(result.stderr)")
        #expect(result.cpuSeconds < 1, "CPU \(result.cpuSeconds) s")
    }

    @Test("a template of 60,000 unclosed sections is a template error, not a crash")
    func deepTemplate() throws {
        #expect(throws: TemplateError.self) {
            _ = try Template(name: "deep.html.mustache", source: String(repeating: "{{#a}}", count: 60_000), contentType: .html)
        }
        var nested = String(repeating: "{{#a}}", count: Template.maxNesting) + String(repeating: "{{/a}}", count: Template.maxNesting)
        #expect(throws: Never.self) { _ = try Template(name: "ok.html.mustache", source: nested, contentType: .html) }
        nested = "{{#a}}" + nested + "{{/a}}"
        #expect(throws: TemplateError.self) { _ = try Template(name: "deep.html.mustache", source: nested, contentType: .html) }
    }

    // MARK: 7. Terminal escapes

    @Test("control characters from the data are escaped on stderr")
    func terminalEscapes() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let id = "t1\u{1B}[2J\u{1B}]0;PWNED\u{07}\u{202E}"
        _ = try temp.file("t.csv", Self.transactionsHeader + "\"\(id)\",2024-03-02T10:00:00+03:00,c1,topup,,1,,\n"
            + "\"\(id)\",2024-03-02T10:00:00+03:00,c1,topup,,2,,\n")
        let result = try SpawnedProcess.run(["validate", "--quiet", "t.csv"], in: temp.url)
        #expect(result.status == 1)
        #expect(!result.stderr.contains("\u{1B}") && !result.stderr.contains("\u{07}") && !result.stderr.contains("\u{202E}"))
        #expect(result.stderr.contains("t1\\u{1B}[2J\\u{1B}]0;PWNED\\u{7}\\u{202E}"), "\(result.stderr)")
        #expect(Escaping.terminal("ok Ёлка") == "ok Ёлка")
    }

    // MARK: The smaller ones

    @Test("a BOM written twice, Excel's trailing empty rows and a trailing Ctrl-Z are read as blank rows and counted")
    func blankRows() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let body = Self.transactionsHeader + "t1,2024-03-02T10:00:00+03:00,c1,topup,,5,,\n,,,,,,,\n,,,,,,,\n\u{1A}"
        let path = temp.url.appendingPathComponent("t.csv").path
        try Data([0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF] + Array(body.utf8)).write(to: URL(fileURLWithPath: path))
        let result = try Self.render(["--out", "out", "t.csv"], in: temp.url)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try String(contentsOf: temp.url.appendingPathComponent("out/summary.json"), encoding: .utf8)
        #expect(summary.contains("\"records\": 1,\n      \"blank_rows\": 3"), "\(summary)")
    }

    @Test("two columns for one field, or a field as attribute and child, are errors naming both")
    func fieldsGivenTwice() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        _ = try temp.file("t.csv", "id,timestamp,client_id,type,service,amount,Сумма\nt1,2024-03-02T10:00:00+03:00,c1,topup,,5,6\n")
        let csv = try SpawnedProcess.run(["validate", "--quiet", "--map", "Сумма=amount", "t.csv"], in: temp.url)
        #expect(csv.status == 1)
        #expect(csv.stderr.contains("t.csv:1: columns 6 (amount) and 7 (Сумма) both give the field amount"), "\(csv.stderr)")
        _ = try temp.file("x.xml", "<export><transactions>\n<transaction id=\"t1\" timestamp=\"2024-03-02T10:00:00+03:00\" client_id=\"c1\" type=\"topup\" amount=\"5\"><amount>6</amount></transaction>\n</transactions></export>\n")
        let xml = try SpawnedProcess.run(["validate", "--quiet", "x.xml"], in: temp.url)
        #expect(xml.status == 1)
        #expect(xml.stderr.contains("x.xml:2: field amount is given twice"), "\(xml.stderr)")
    }

    @Test("bidi controls in a name cannot reorder the page around it")
    func bidiControls() {
        let name = "Evil\u{202E}gnp.exe\u{2066}x"
        let html = Escaping.html(name)
        #expect(!html.unicodeScalars.contains { Escaping.isBidiControl($0.value) })
        #expect(html == "Evil[U+202E]gnp.exe[U+2066]x")
        #expect(Escaping.html("مرحبا Ёлка") == "مرحبا Ёлка")
    }
}
