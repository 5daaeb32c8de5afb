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
        #expect(result.stderr.contains("snapshot.csv.mustache: not a regular file (a symbolic link"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    // MARK: 3. send sends only the bytes render wrote

    /// A sendmail that keeps what it is given: each message appended to `received` in the folder.
    static func keepingSendmail(_ temp: TemporaryFolder) -> (command: String, received: String) {
        let received = temp.url.path + "/received"
        return ("cat >> '\(received)'", received)
    }

    @Test("a report.eml edited after render (a Bcc: added) is not sent and is named; the untouched ones are")
    func editedMessageNotSent() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out")
        let export = try SendFixture.writeExport(in: temp.url, partners: 2)
        try SendFixture.render(out, files: export.files, contacts: export.contacts)
        let eml = out.appendingPathComponent("p01/report.eml")
        var bytes = try Data(contentsOf: eml)
        bytes.insert(contentsOf: Data("Bcc: spy@evil.example\r\n".utf8), at: 0)
        try bytes.write(to: eml)
        let (command, received) = Self.keepingSendmail(temp)
        let result = try BalanceReportBinary.run(["send", out.path, "--sendmail", command])
        #expect(result.status == 1)
        #expect(result.stderr.contains("p01: failed: p01/report.eml was changed after render"), "\(result.stderr)")
        #expect(result.stderr.contains("sent p02"), "\(result.stderr)")
        let got = (try? String(contentsOfFile: received, encoding: .utf8)) ?? ""
        #expect(!got.contains("spy@evil.example"))
        #expect(got.contains("p02@partners.example"))
    }

    // MARK: 4. no comparison across currencies

    @Test("--compare-with an earlier output in USD from a RUB run compares each currency with itself, never one with the other")
    func compareAcrossCurrencies() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let usd = try temp.file("usd.csv", "id,timestamp,client_id,type,service,amount,currency\nf1,2024-02-05T10:00:00+03:00,c1,charge,S,100.00,USD\n")
        let rub = try temp.file("rub.csv", "id,timestamp,client_id,type,service,amount,currency\nm1,2024-03-05T10:00:00+03:00,c1,charge,S,9000.00,RUB\n")
        let february = temp.url.path + "/february", march = temp.url.path + "/march"
        let first = try BalanceReportBinary.run(["render", "--quiet", "--period", "2024-02", "--out", february, usd])
        #expect(first.status == 0, "\(first.stderr)")
        let result = try BalanceReportBinary.run(["render", "--quiet", "--period", "2024-03", "--compare-with", february, "--out", march, rub])
        #expect(result.status == 0, "\(result.stderr)")
        // RUB: new (nothing then); USD: gone (nothing now). No row subtracts 100 USD from 9000 RUB.
        let changes = try String(contentsOfFile: march + "/default/changes.csv", encoding: .utf8)
        #expect(changes == "client_id,service,previous_net,net,change,currency\nc1,S,,9000.00,9000.00,RUB\nc1,S,100.00,,-100.00,USD\n", "\(changes)")
        let index = try String(contentsOfFile: march + "/default/index.html", encoding: .utf8)
        #expect(!index.contains("8\u{00A0}900"), "a difference of two currencies")
        // The same currency compares as before.
        let same = try temp.file("usd-march.csv", "id,timestamp,client_id,type,service,amount,currency\nm1,2024-03-05T10:00:00+03:00,c1,charge,S,90.00,USD\n")
        let ok = try BalanceReportBinary.run(["render", "--quiet", "--period", "2024-03", "--compare-with", february, "--out", march + "-usd", same])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try String(contentsOfFile: march + "-usd/default/changes.csv", encoding: .utf8)
                == "client_id,service,previous_net,net,change\nc1,S,100.00,90.00,-10.00\n")
    }

    // MARK: 5. no forged part merged

    /// The Spark route of the sample data (and rejected rows) for `period` in a folder of its own
    /// (the caller removes it); the parts' paths.
    static func routed(period: String) throws -> (folder: TemporaryFolder, inputs: [String], renders: [String]) {
        let sub = try TemporaryFolder()
        let extra = try sub.file("extra.csv", SplitMergeTests.extra)
        let result = try SplitMergeTests.route(Repository.sampleFiles + [extra], options: ["--period", period, "--allow-rejects"], in: sub,
                                               out: sub.url.path + "/merged")
        #expect(result.status == 0, "\(result.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: sub.url.path).filter { $0.hasSuffix(".json") }.sorted()
        return (sub, names.filter { $0.hasPrefix("input-") }.map { sub.url.path + "/" + $0 }, names.filter { $0.hasPrefix("render-") }.map { sub.url.path + "/" + $0 })
    }

    static func edit(_ path: String, _ change: (inout [String: Any]) -> Void) throws {
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        change(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
    }

    static func merge(_ parts: [String], out: String) throws -> CommandResult {
        try BalanceReportBinary.run(["merge-parts", "--allow-rejects", "--out", out] + parts)
    }

    @Test("merge-parts refuses a render part pointing at another run's or another part's output, with nothing published")
    func forgedOutput() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let march = try Self.routed(period: "2024-03")
        let february = try Self.routed(period: "2024-02")
        defer { march.folder.cleanup(); february.folder.cleanup() }
        let out = temp.url.path + "/out"
        // The untouched parts merge.
        let honest = try Self.merge(march.inputs + march.renders, out: out)
        #expect(honest.status == 0, "\(honest.stderr)")
        try FileManager.default.removeItem(atPath: out)
        let februaryOutput = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: february.renders[0]))) as! [String: Any]
        try Self.edit(march.renders[0]) { $0["output"] = februaryOutput["output"] }
        let forged = try Self.merge(march.inputs + march.renders, out: out)
        #expect(forged.status == 1)
        #expect(forged.stderr.contains("holds reports of 2024-02-01 – 2024-02-29, but its render part is of 2024-03-01 – 2024-03-31"), "\(forged.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        // Another part's output of the same run: other partners.
        let other = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: march.renders[1]))) as! [String: Any]
        try Self.edit(march.renders[0]) { $0["output"] = other["output"] }
        let swapped = try Self.merge(march.inputs + march.renders, out: out)
        #expect(swapped.status == 1)
        #expect(swapped.stderr.contains("holds the reports of partners its render part does not name"), "\(swapped.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("merge-parts refuses edited partner totals and an edited page, with nothing published")
    func forgedTotals() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let parts = try Self.routed(period: "2024-03")
        defer { parts.folder.cleanup() }
        let out = temp.url.path + "/out"
        let index = try #require(try parts.renders.firstIndex { path in
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            return !(json["partners"] as! [Any]).isEmpty
        })
        let render = parts.renders[index]
        let saved = try Data(contentsOf: URL(fileURLWithPath: render))
        // Charges of one partner edited: its partners no longer add up to what its reports show.
        try Self.edit(render) { json in
            var partners = json["partners"] as! [[String: Any]]
            var totals = partners[0]["totals"] as! [String: [String]]
            totals["RUB"]![2] = "999999.00"
            partners[0]["totals"] = totals
            json["partners"] = partners
        }
        let edited = try Self.merge(parts.inputs + parts.renders, out: out)
        #expect(edited.status == 1)
        #expect(edited.stderr.contains("its partners' totals"), "\(edited.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        // Opening balance edited (no control total covers it): its summary.json says otherwise.
        try saved.write(to: URL(fileURLWithPath: render))
        try Self.edit(render) { json in
            var partners = json["partners"] as! [[String: Any]]
            var totals = partners[0]["totals"] as! [String: [String]]
            totals["RUB"]![0] = "999999.00"
            partners[0]["totals"] = totals
            json["partners"] = partners
        }
        let opening = try Self.merge(parts.inputs + parts.renders, out: out)
        #expect(opening.status == 1)
        #expect(opening.stderr.contains("does not say the partners and their totals its summary.json says"), "\(opening.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        // A page of the part's output edited after its render.
        try saved.write(to: URL(fileURLWithPath: render))
        let json = try JSONSerialization.jsonObject(with: saved) as! [String: Any]
        let output = json["output"] as! String
        let partner = FileNames.safeName(for: ((json["partners"] as! [[String: Any]])[0]["partnerID"] as! String))
        let page = output + "/" + partner + "/index.html"
        var html = try String(contentsOfFile: page, encoding: .utf8)
        html = html.replacingOccurrences(of: "<body", with: "<body data-x=\"1\"")
        try FileManager.default.removeItem(atPath: page)   // a new file: the parts' outputs are linked, not copied
        try Data(html.utf8).write(to: URL(fileURLWithPath: page))
        let page2 = try Self.merge(parts.inputs + parts.renders, out: out)
        #expect(page2.status == 1)
        #expect(page2.stderr.contains("index.html was changed after its render"), "\(page2.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("merge-parts refuses an input part whose rejected amount was edited, with nothing published")
    func forgedInputAmount() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let parts = try Self.routed(period: "2024-03")
        defer { parts.folder.cleanup() }
        let out = temp.url.path + "/out"
        // The input part of extra.csv (the last file) has the rejected rows.
        let input = parts.inputs.last!
        let saved = try Data(contentsOf: URL(fileURLWithPath: input))
        func withAmount(_ json: inout [String: Any], tally: Bool) {
            var rejections = json["rejections"] as! [[String: Any]]
            let first = rejections.firstIndex { $0["amount"] is String }!
            rejections[first]["amount"] = "1000001.00"
            json["rejections"] = rejections
            guard tally else { return }
            var files = json["files"] as! [[String: Any]]
            var outcomes = files[0]["outcomes"] as! [String: [String: Any]]
            let total = rejections.compactMap { $0["amount"] as? String }.compactMap { try? AmountParser.parse($0, mark: .point, allowNegative: true) }.reduce(Money.zero, +)
            outcomes["rejected"]!["amounts"] = ["RUB": "\(total)"]
            files[0]["outcomes"] = outcomes
            json["files"] = files
        }
        try Self.edit(input) { withAmount(&$0, tally: false) }
        let row = try Self.merge(parts.inputs + parts.renders, out: out)
        #expect(row.status == 1)
        #expect(row.stderr.contains("rejected record(s) of"), "\(row.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        try saved.write(to: URL(fileURLWithPath: input))
        try Self.edit(input) { withAmount(&$0, tally: true) }
        let both = try Self.merge(parts.inputs + parts.renders, out: out)
        #expect(both.status == 1)
        #expect(both.stderr.contains("as split-export read them, but the parts account for"), "\(both.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    // MARK: 6. bombs that pass the size caps

    /// The binary under a memory limit (KiB of address space) and killed after `seconds`: a bomb
    /// the tool does not stop fails the test instead of taking the machine.
    static func bounded(_ arguments: [String], seconds: Int = 60, memoryKiB: Int = 3_000_000) throws -> SpawnedProcess.Result {
        try SpawnedProcess(executable: "/bin/sh", ["-c", "ulimit -v \(memoryKiB); exec timeout -s KILL \(seconds) \"$0\" \"$@\"",
                                                   BalanceReportBinary.url.path] + arguments).wait()
    }

    @Test("a profile aliasing one 500 KB scalar 100,000 times is refused quickly, naming the file")
    func yamlAliasBomb() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        var yaml = "description: &x \"" + String(repeating: "A", count: 500_000) + "\"\nfiles: ["
        yaml += Array(repeating: "*x", count: 100_000).joined(separator: ",") + "]\n"
        #expect(yaml.utf8.count < 1 << 20)
        let profile = try temp.file("bomb.yaml", yaml)
        let start = Date()
        let result = try Self.bounded(["validate", "--profile", profile, "sample-data/clients.csv"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(profile): the profile expands to more than 4 MiB"), "\(result.stderr.prefix(500))")
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(result.stderr.utf8.count < 4_000)
    }

    @Test("a custom template nesting {{#clients}} 30 deep is refused at once, naming the file")
    func templateNestingBomb() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let tpl = temp.url.path + "/tpl"
        #expect(try BalanceReportBinary.run(["templates", "export", tpl]).status == 0)
        let source = String(repeating: "{{#clients}}", count: 30) + "x" + String(repeating: "{{/clients}}", count: 30)
        try Data(source.utf8).write(to: URL(fileURLWithPath: tpl + "/snapshot.csv.mustache"))
        let out = temp.url.path + "/out"
        let start = Date()
        let result = try Self.bounded(["render", "--quiet", "--period", "2024-03", "--templates", tpl, "--out", out] + Repository.sampleFiles)
        #expect(result.status == 1)
        #expect(result.stderr.contains("tpl/snapshot.csv.mustache:1: {{#clients}} is inside {{#clients}}"), "\(result.stderr)")
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("sections of different rows nested in one another stop at the repetition bound, and output at the size bound")
    func templateWorkBound() throws {
        let items = (0..<20).map { ["v": "\($0)"] }
        let values: [String: TemplateValue] = ["a": rows(items), "b": rows(items), "c": rows(items)]
        let template = try Template(name: "bomb.csv.mustache", source: "{{#a}}{{#b}}{{#c}}{{v}}{{/c}}{{/b}}{{/a}}", contentType: .csv(.standard))
        // 8,420 repetitions in all: within a bound of 10,000, past one of 1,000.
        #expect(throws: Never.self) { try template.render(DictionaryScope(values: values), limits: .init(maxOutputBytes: 1 << 20, maxRepetitions: 10_000)) }
        #expect {
            try template.render(DictionaryScope(values: values), limits: .init(maxOutputBytes: 1 << 20, maxRepetitions: 1_000))
        } throws: { ($0 as? TemplateError)?.message.contains("repeats its sections more than 1000 times") == true }
        #expect {
            try template.render(DictionaryScope(values: values), limits: .init(maxOutputBytes: 1_000, maxRepetitions: 1 << 30))
        } throws: { ($0 as? TemplateError).map { $0.template == "bomb.csv.mustache" && $0.message.contains("writes more than") } == true }
        #expect(Template.Limits.standard.maxOutputBytes == 1 << 30)
    }

    // MARK: 8. smaller ones: profiles

    @Test("a FIFO given as --profile is refused at once, not waited on")
    func fifoProfile() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let fifo = temp.url.path + "/profile.yaml"
        #expect(mkfifo(fifo, 0o600) == 0)
        // Under timeout(1): a run that waits on the FIFO is killed after 20 s (status 124).
        let result: SpawnedProcess.Result? = try SpawnedProcess(executable: "/usr/bin/timeout",
            ["-s", "KILL", "20", BalanceReportBinary.url.path, "validate", "--profile", fifo, "sample-data/clients.csv"]).wait()
        #expect(result?.status == 1)
        #expect(result?.stderr.contains("not a regular file") == true, "\(result?.stderr ?? "")")
    }

    @Test("a 900 KB YAML key is quoted cut, not echoed whole to stderr")
    func longKeyCut() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let profile = try temp.file("long.yaml", "? " + String(repeating: "k", count: 900_000) + "\n: 1\n")
        let result = try BalanceReportBinary.run(["validate", "--profile", profile, "sample-data/clients.csv"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("unknown key 'kkkk"), "\(result.stderr.prefix(300))")
        #expect(result.stderr.contains("… (900000 bytes)'"), "\(result.stderr.prefix(600))")
        #expect(result.stderr.utf8.count < 2_000)
    }

    // MARK: 7. stopped runs leave no staging folder

    /// An export whose render writes some thousands of files: long enough to be stopped while writing.
    static func largeExport(in folder: URL) throws -> [String] {
        var clients = "client_id,name,email,partner_id\n"
        var transactions = "id,timestamp,client_id,type,service,amount,currency,description\n"
        for client in 0..<3_000 {
            clients += "c\(client),Client \(client),c\(client)@example.com,p\(client % 7)\n"
            for n in 0..<4 {
                transactions += "t\(client)-\(n),2024-03-1\(n)T10:00:00+03:00,c\(client),\(n == 0 ? "topup" : "charge"),\(n == 0 ? "" : "Compute"),\(n + 1)0.50,,\n"
            }
        }
        let c = folder.appendingPathComponent("clients.csv"), t = folder.appendingPathComponent("transactions.csv")
        try Data(clients.utf8).write(to: c)
        try Data(transactions.utf8).write(to: t)
        return [c.path, t.path]
    }

    static func staging(in folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasPrefix(".balance-report-") }.sorted()
    }

    @Test("SIGTERM or SIGINT while writing: the run removes its staging folder and exits 128 + the signal", arguments: [SIGTERM, SIGINT])
    func signalCleansStaging(_ number: Int32) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let files = try Self.largeExport(in: temp.url)
        let work = temp.url.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let out = work.appendingPathComponent("out")
        var stopped = false
        for _ in 0..<3 where !stopped {
            let process = try SpawnedProcess(["render", "--quiet", "--period", "2024-03", "--out", out.path] + files)
            let deadline = Date().addingTimeInterval(60)
            while Self.staging(in: work).isEmpty && Date() < deadline { usleep(2_000) }
            usleep(50_000)
            process.kill(number)
            let result = process.wait()
            if result.status == 0 {   // it ended before the signal: try again
                try? FileManager.default.removeItem(at: out)
                continue
            }
            stopped = true
            #expect(result.status == 128 + number, "\(result.status) \(result.stderr)")
            #expect(Self.staging(in: work).isEmpty, "left: \(Self.staging(in: work))")
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
        #expect(stopped, "no run was stopped while writing")
    }

    @Test("after a run killed with SIGKILL while writing, the very next run removes its staging folder")
    func nextRunRemovesKilledStaging() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let files = try Self.largeExport(in: temp.url)
        let work = temp.url.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let out = work.appendingPathComponent("out")
        var left: [String] = []
        for _ in 0..<3 where left.isEmpty {
            let process = try SpawnedProcess(["render", "--quiet", "--period", "2024-03", "--out", out.path] + files)
            let deadline = Date().addingTimeInterval(60)
            while Self.staging(in: work).isEmpty && Date() < deadline { usleep(2_000) }
            usleep(50_000)
            process.kill(SIGKILL)
            _ = process.wait()
            left = Self.staging(in: work)
            try? FileManager.default.removeItem(at: out)
        }
        #expect(!left.isEmpty, "no kill landed while writing")
        let next = try BalanceReportBinary.run(["render", "--quiet", "--period", "2024-03", "--out", out.path] + Repository.sampleFiles)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(Self.staging(in: work).isEmpty, "left: \(Self.staging(in: work)) of \(left)")
    }

    // MARK: 8. smaller ones

    /// A rendered output of two partners ready to send.
    static func sendable(_ temp: TemporaryFolder) throws -> URL {
        let out = temp.url.appendingPathComponent("out")
        let export = try SendFixture.writeExport(in: temp.url, partners: 2)
        try SendFixture.render(out, files: export.files, contacts: export.contacts)
        return out
    }

    @Test("send --timeout: a hung sendmail is killed and its message is uncertain, not sent again")
    func sendTimeout() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = try Self.sendable(temp)
        let start = Date()
        let result = try BalanceReportBinary.run(["send", out.path, "--only", "p01", "--timeout", "1", "--sendmail", "cat > /dev/null; sleep 60"])
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(result.status == 1)
        #expect(result.stderr.contains("p01: uncertain: cat did not finish within the 1 s of --timeout and was killed"), "\(result.stderr)")
        let again = try BalanceReportBinary.run(["send", out.path, "--only", "p01", "--sendmail", "cat > /dev/null"])
        #expect(again.stderr.contains("p01: uncertain"), "\(again.stderr)")
        #expect(try BalanceReportBinary.run(["send", out.path, "--timeout", "0"]).status == 2)
    }

    @Test("a sendmail that exits 0 without reading its input: uncertain, even when the message fits the pipe")
    func sendmailNotReading() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = try Self.sendable(temp)
        let size = try Data(contentsOf: out.appendingPathComponent("p01/report.eml")).count
        #expect(size < 65_536)
        // It stays until the message is in the pipe (so no write fails), then exits 0 unread.
        let result = try BalanceReportBinary.run(["send", out.path, "--only", "p01", "--sendmail", "sleep 1"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("p01: uncertain: sleep exited 0 without reading the whole message"), "\(result.stderr)")
    }

    @Test("a 1 MB garbage line in the sent log is quoted cut in the warning")
    func sentLogGarbageCut() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = try Self.sendable(temp)
        try Data((String(repeating: "g", count: 1 << 20) + "\n").utf8).write(to: out.appendingPathComponent(".balance-report-sent.log"))
        let result = try BalanceReportBinary.run(["send", out.path, "--dry-run"])
        #expect(result.stderr.contains("not a record, ignored: ggg"), "\(result.stderr.prefix(400))")
        #expect(result.stderr.contains("… (1048576 bytes)"), "\(result.stderr.prefix(600))")
        #expect(result.stderr.utf8.count < 4_000)
    }

    @Test("render --period 0001-01 --xlsx: workbooks openpyxl opens (a four-digit creation year)")
    func xlsxEarlyYear() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let export = try temp.file("t.csv", "id,timestamp,client_id,type,service,amount\nt1,0001-01-05T10:00:00+03:00,c1,topup,,10.00\n")
        let out = temp.url.appendingPathComponent("out")
        let result = try BalanceReportBinary.run(["render", "--quiet", "--period", "0001-01", "--xlsx", "--out", out.path, export])
        #expect(result.status == 0, "\(result.stderr)")
        let check = try PythonScript.inline("""
            import sys, zipfile, openpyxl
            path = sys.argv[1]
            core = zipfile.ZipFile(path).read('docProps/core.xml').decode()
            openpyxl.load_workbook(path)
            print('ok' if '<dcterms:created xsi:type="dcterms:W3CDTF">1980-01-01T00:00:00Z' in core else core)
            """, [out.appendingPathComponent("default/snapshot.xlsx").path])
        #expect(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok", "\(check.stdout) \(check.stderr)")
    }

    @Test("a text cell of 32,766 characters and an emoji (32,768 UTF-16 units) is cut to Excel's 32,767 units")
    func xlsxTextUTF16() throws {
        #expect(Workbook.cellText(String(repeating: "a", count: 32_766) + "😀").utf16.count <= 32_767)
        #expect(Workbook.cellText(String(repeating: "a", count: 32_766) + "😀").hasSuffix("…"))
        #expect(Workbook.cellText(String(repeating: "a", count: 32_765) + "😀") == String(repeating: "a", count: 32_765) + "😀")
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let name = String(repeating: "a", count: 32_766) + "😀"
        let clients = try temp.file("c.csv", "client_id,name,email\nc1,\(name),c1@x.example\n")
        let out = temp.url.appendingPathComponent("out")
        let result = try BalanceReportBinary.run(["render", "--quiet", "--period", "2024-03", "--xlsx", "--out", out.path, clients])
        #expect(result.status == 0, "\(result.stderr)")
        let check = try PythonScript.inline("""
            import sys, openpyxl
            ws = openpyxl.load_workbook(sys.argv[1]).active
            name = ws.cell(row=2, column=2).value
            print(len(name.encode('utf-16-le')) // 2, name.endswith('…'))
            """, [out.appendingPathComponent("default/snapshot.xlsx").path])
        #expect(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "32767 True", "\(check.stdout) \(check.stderr)")
    }

    @Test("summary.json lists at most 10,000 duplicates and says how many more there are")
    func duplicatesCapped() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        var text = "id,timestamp,client_id,type,service,amount\n"
        for _ in 0..<10_050 { text += "t1,2024-03-05T10:00:00+03:00,c1,topup,,10.00\n" }
        let export = try temp.file("t.csv", text)
        let out = temp.url.appendingPathComponent("out")
        let result = try BalanceReportBinary.run(["render", "--quiet", "--period", "2024-03", "--out", out.path, export])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as! [String: Any]
        #expect((json["duplicates"] as! [Any]).count == 10_000)
        #expect(json["duplicates_not_listed"] as? Int == 49)
        let records = (json["records"] as! [String: [String: [String: Any]]])["transaction"]!["duplicate"]!
        #expect(records["count"] as? Int == 10_049)
    }

    @Test("a UTF-16 CSV with a BOM (Excel's Unicode text, tab-delimited; LE, BE, gzipped) reads as its UTF-8 twin",
          arguments: ["le-tab", "be-tab", "le-comma", "le-tab-gz"])
    func utf16Input(_ variant: String) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let comma = variant.contains("comma")
        let sep = comma ? "," : "\t"
        let rows = [["id", "timestamp", "client_id", "type", "service", "amount", "description"],
                    ["t1", "2024-03-05T10:00:00+03:00", "Ёлка", "topup", "", "100.00", "ёж 😀"],
                    ["t2", "2024-03-06T10:00:00+03:00", "Ёлка", "charge", "Compute", "30.50", ""]]
        let text = rows.map { $0.joined(separator: sep) }.joined(separator: "\r\n") + "\r\n"
        let utf8 = try temp.file("twin.csv", rows.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n")
        var bytes: [UInt8] = variant.hasPrefix("be") ? [0xFE, 0xFF] : [0xFF, 0xFE]
        for unit in text.utf16 {
            let pair = [UInt8(unit & 0xFF), UInt8(unit >> 8)]
            bytes += variant.hasPrefix("be") ? pair.reversed() : pair
        }
        var path = temp.url.appendingPathComponent("unicode.txt").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        if variant.hasSuffix("gz") {
            let gzip = try SpawnedProcess(executable: "/bin/gzip", [path]).wait()
            #expect(gzip.status == 0)
            path += ".gz"
        }
        let a = temp.url.appendingPathComponent("a"), b = temp.url.appendingPathComponent("b")
        let twin = try BalanceReportBinary.run(["render", "--quiet", "--period", "2024-03", "--out", a.path, utf8])
        let wide = try BalanceReportBinary.run(["render", "--quiet", "--period", "2024-03", "--out", b.path, path])
        #expect(twin.status == 0 && wide.status == 0, "\(wide.stderr)")
        for file in fileTree(a) where file != "summary.json" && file != ".balance-report-output" {
            #expect(try Data(contentsOf: a.appendingPathComponent(file)) == Data(contentsOf: b.appendingPathComponent(file)), "\(file)")
        }
    }
}
