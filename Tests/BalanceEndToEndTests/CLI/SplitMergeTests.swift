import Foundation
import Testing
@testable import BalanceTestSupport
import BalanceIngest
import BalanceModel

/// The Spark route's Swift steps, driven here without Spark: every file through `split-export`,
/// its rows routed by client as `scale/spark/balance_report_spark.py` routes them, each partner's
/// set through `render --summary-part`, and `merge-parts`; the output must be byte for byte the
/// one `render` writes of the same files.
@Suite("Split and merge (the Spark route without Spark)")
struct SplitMergeTests {
    /// The rows' headers: the tool's own (`ExportSplit.header`), one per kind.
    static let headers = Dictionary(uniqueKeysWithValues: RecordKind.allCases.map { ($0.rawValue, ExportSplit.header($0)) })

    @Test("the Spark driver writes the rows' headers split-export's rows are made for (a field added to a kind reaches both)")
    func sparkHeadersAreTheTools() throws {
        let driver = try String(contentsOf: Repository.root.appendingPathComponent("scale/spark/balance_report_spark.py"), encoding: .utf8)
        for kind in RecordKind.allCases {
            let line = "\"\(kind.rawValue)\": b\"\(ExportSplit.header(kind).dropLast())\\n\","
            #expect(driver.contains(line), "the driver's header of \(kind.rawValue) is not \(ExportSplit.header(kind))")
        }
    }

    /// Extra records for every outcome the sample data lacks: rejected rows, a transaction id
    /// reused by a client of another partner (a conflict across partners' sets), unknown clients.
    static let extra = """
        id,timestamp,client_id,type,service,amount,currency,description
        x-1,2024-02-30T10:00:00+03:00,cl-1001,charge,Compute Cloud,1.00,RUB,impossible date
        x-2,2024-03-05T10:00:00+03:00,,topup,,100.00,RUB,no client
        x-3,2024-03-05T10:00:00+03:00,cl-1001,charge,Compute Cloud,5.00,RUB,first
        x-3,2024-03-05T10:00:00+03:00,cl-1007,charge,Compute Cloud,5.00,RUB,"=HYPERLINK(""x"")"
        x-4,2024-03-06T10:00:00+03:00,nobody-1,topup,,7.00,RUB,unknown client

        """

    /// The run's currencies, as the Spark driver gathers them from the input parts: every set is
    /// rendered in all of them (`--run-currencies`).
    static func runCurrencies(_ parts: [String]) throws -> [String] {
        var codes = Set<String>()
        for part in parts {
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: part))) as! [String: Any]
            codes.formUnion(json["currencies"] as! [String])
        }
        return codes.isEmpty ? [] : ["--run-currencies", codes.sorted().joined(separator: ",")]
    }

    /// Runs the route by hand into `out`; returns the merge's result.
    static func route(_ files: [String], options: [String], in folder: TemporaryFolder, out: String) throws -> CommandResult {
        var inputParts: [String] = []
        // set key -> kind -> [(file, seq, row)]
        var rows: [(kind: String, file: Int, seq: Int, client: String, key: String, row: Data)] = []
        var kinds = Set<String>()
        for (index, file) in files.enumerated() {
            let rowsPath = folder.url.appendingPathComponent("rows-\(index).tsv").path
            let part = folder.url.appendingPathComponent("input-\(index).json").path
            let split = try BalanceReportBinary.run(["split-export", "--rows", rowsPath, "--part", part, file])
            #expect(split.status == 0, "\(split.stderr)")
            inputParts.append(part)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: part))) as! [String: Any]
            for f in json["files"] as! [[String: Any]] { kinds.formUnion(f["kinds"] as! [String]) }
            let text = try String(contentsOfFile: rowsPath, encoding: .utf8)
            for line in text.split(separator: "\n") {
                let cells = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                rows.append((cells[0], index, Int(cells[1])!, cells[2], cells[3], Data(base64Encoded: cells[4])!))
            }
        }
        // Owner: the partner of a client's first clients record; the rest is nobody's.
        var owner: [String: (Int, Int, String)] = [:]
        for r in rows where r.kind == "client" {
            if let known = owner[r.client], (known.0, known.1) < (r.file, r.seq) { continue }
            owner[r.client] = (r.file, r.seq, r.key)
        }
        var routed = rows.map { (set: owner[$0.client]?.2 ?? "-", row: $0) }
        var setsOfID: [String: Set<String>] = [:]
        for r in routed where r.row.kind == "transaction" { setsOfID[r.row.key, default: []].insert(r.set) }
        for index in routed.indices where routed[index].row.kind == "transaction" && setsOfID[routed[index].row.key]!.count > 1 {
            routed[index].set = "-"
        }
        var renderParts: [String] = []
        for (number, set) in Set(routed.map(\.set)).sorted().enumerated() {
            var shardFiles: [String] = []
            for kind in ["client", "event", "transaction"] {
                let mine = routed.filter { $0.set == set && $0.row.kind == kind }.map(\.row).sorted { ($0.file, $0.seq) < ($1.file, $1.seq) }
                guard !mine.isEmpty || kinds.contains(kind) && kind != "transaction" else { continue }
                var data = Data(headers[kind]!.utf8)
                for r in mine { data.append(r.row) }
                let path = folder.url.appendingPathComponent("set-\(number)-\(kind).csv").path
                try data.write(to: URL(fileURLWithPath: path))
                shardFiles.append(path)
            }
            let part = folder.url.appendingPathComponent("render-\(number).json").path
            let output = folder.url.appendingPathComponent("set-\(number)").path
            let render = try BalanceReportBinary.run(["render", "--quiet"] + options + (try Self.runCurrencies(inputParts))
                                                     + ["--out", output, "--summary-part", part] + shardFiles)
            #expect(render.status == 0, "\(render.stderr)")
            renderParts.append(part)
        }
        return try BalanceReportBinary.run(["merge-parts", "--quiet"] + (options.contains("--allow-rejects") ? ["--allow-rejects"] : [])
                                           + ["--out", out] + inputParts + renderParts.reversed())
    }

    @Test("a run of several currencies (a partner of one, a partner of two, an unknown client's EUR): the same bytes as one render")
    func severalCurrencies() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let files = ["clients.csv", "events.csv", "transactions.csv"].map { Repository.root.appendingPathComponent("sample-data/currencies/" + $0).path }
        let options = ["--period", "2024-03", "--allow-rejects"]
        let single = folder.url.appendingPathComponent("single").path
        let whole = try BalanceReportBinary.run(["render", "--quiet", "--out", single] + options + files)
        #expect(whole.status == 0, "\(whole.stderr)")
        let merged = folder.url.appendingPathComponent("merged").path
        let result = try Self.route(files, options: options, in: folder, out: merged)
        #expect(result.status == 0, "\(result.stderr)")
        let (a, b) = (fileTree(URL(fileURLWithPath: single)), fileTree(URL(fileURLWithPath: merged)))
        #expect(a == b)
        #expect(a.contains("orion/snapshot.csv") && a.contains("unknown-clients.csv"))
        for name in a + [".balance-report-output"] {
            #expect(FileManager.default.contents(atPath: single + "/" + name) == FileManager.default.contents(atPath: merged + "/" + name), "\(name) differs")
        }
    }

    @Test("the sample data, with rejected, conflicting and unknown records: the same bytes as one render")
    func sameBytesAsOneRender() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let extra = try folder.file("extra.csv", Self.extra)
        let files = Repository.sampleFiles + [extra]
        let options = ["--period", "2024-03", "--allow-rejects"]
        let single = folder.url.appendingPathComponent("single").path
        let one = try BalanceReportBinary.run(["render", "--quiet"] + options + ["--out", single] + files)
        #expect(one.status == 0, "\(one.stderr)")
        let merged = folder.url.appendingPathComponent("merged").path
        let result = try Self.route(files, options: options, in: folder, out: merged)
        #expect(result.status == 0, "\(result.stderr)")
        let a = fileTree(URL(fileURLWithPath: single)), b = fileTree(URL(fileURLWithPath: merged))
        #expect(a == b)
        #expect(a.contains("rejects.csv") && a.contains("summary.json"))
        for name in a + [".balance-report-output"] {
            let x = try Data(contentsOf: URL(fileURLWithPath: single + "/" + name))
            let y = try Data(contentsOf: URL(fileURLWithPath: merged + "/" + name))
            #expect(x == y, "\(name) differs")
        }
        // The summary names the original files and lines, never a cut-out set's.
        let summary = try String(contentsOfFile: merged + "/summary.json", encoding: .utf8)
        #expect(summary.contains("\"location\": \"\(extra):5\""))
        #expect(!summary.contains("set-"))
    }

    @Test("merge-parts refuses parts whose control totals do not add up, and publishes nothing")
    func controlTotalsChecked() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let files = Repository.sampleFiles
        let merged = folder.url.appendingPathComponent("merged").path
        #expect(try Self.route(files, options: ["--period", "2024-03"], in: folder, out: merged).status == 0)
        // One render part less: its records are read but not accounted for.
        let parts = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0.hasSuffix(".json") }.sorted()
        let inputs = parts.filter { $0.hasPrefix("input-") }.map { folder.url.path + "/" + $0 }
        let renders = parts.filter { $0.hasPrefix("render-") }.map { folder.url.path + "/" + $0 }
        let short = try BalanceReportBinary.run(["merge-parts", "--out", folder.url.path + "/short"] + inputs + renders.dropFirst())
        #expect(short.status == 1)
        #expect(short.stderr.contains("records read but"), "\(short.stderr)")
        #expect(short.stderr.contains("control totals do not reconcile; no report written"))
        #expect(!FileManager.default.fileExists(atPath: folder.url.path + "/short"))
        // A render part whose accepted top-ups were changed: accepted and reported disagree.
        // (A part with accepted money: control totals are kept per currency, and a part of none has none.)
        let edited = try #require(try renders.first { path in
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            return !(json["accepted"] as! [String: [String]]).isEmpty
        })
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: edited))) as! [String: Any]
        var accepted = json["accepted"] as! [String: [String]]
        accepted["RUB"]![0] = "1" + accepted["RUB"]![0]
        json["accepted"] = accepted
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: edited))
        let tampered = try BalanceReportBinary.run(["merge-parts", "--out", folder.url.path + "/tampered"] + inputs + renders)
        #expect(tampered.status == 1)
        #expect(tampered.stderr.contains("the reports show top-ups"), "\(tampered.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.url.path + "/tampered"))
    }

    @Test("merge-parts keeps render's --out rule: a folder that is not the tool's is refused")
    func outRule() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let merged = folder.url.appendingPathComponent("merged").path
        try FileManager.default.createDirectory(atPath: merged, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: merged + "/plan.txt"))
        let result = try Self.route(Repository.sampleFiles, options: ["--period", "2024-03"], in: folder, out: merged)
        #expect(result.status == 1)
        #expect(try String(contentsOfFile: merged + "/plan.txt", encoding: .utf8) == "mine")
    }

    @Test("partners whose folders differ only in letter case, in two parts: refused by the merge as by render")
    func folderCollisionAcrossParts() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let clients = try folder.file("clients.csv", "client_id,name,email,phone,partner_id\nc1,A,a@x.example,,Alfa\nc2,B,b@x.example,,alfa\n")
        let one = try BalanceReportBinary.run(["render", "--period", "2024-03", "--out", folder.url.path + "/single", clients])
        #expect(one.status == 1 && one.stderr.contains("would share the folder"), "\(one.stderr)")
        let merged = try Self.route([clients], options: ["--period", "2024-03"], in: folder, out: folder.url.path + "/merged")
        #expect(merged.status == 1)
        #expect(merged.stderr.contains("partners 'Alfa' and 'alfa' would share the folder"), "\(merged.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.url.path + "/merged"))
    }

    @Test("merge-parts --check-out refuses before any work what render refuses, and creates nothing")
    func checkOut() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let fresh = folder.url.path + "/fresh"
        #expect(try BalanceReportBinary.run(["merge-parts", "--check-out", "--out", fresh] + Repository.sampleFiles).status == 0)
        #expect(!FileManager.default.fileExists(atPath: fresh))
        let foreign = try BalanceReportBinary.run(["merge-parts", "--check-out", "--out", "sample-data"] + Repository.sampleFiles)
        #expect(foreign.status == 1)
        #expect(foreign.stderr.contains("sample-data"), "\(foreign.stderr)")
    }

    /// Issue 22: a layout that names its clients (and partners) in its rows goes the route too. Its
    /// rows are passed on as they were read, after a header line; each partner the rows name is a set,
    /// rendered with the same profile, and the merge equals one render byte for byte.
    /// With invoices (issue 23, `focus-invoices`): each set's invoices travel in its render part,
    /// and the merged summary.json says them as one render does.
    @Test("FOCUS exports of several versions, routed by the partner each row names: the same bytes as one render",
          arguments: [("focus-1.3", 4), ("focus-invoices", 2)])
    func focusRowsByPartner(_ sample: String, _ partners: Int) throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let fixtures = Repository.root.appendingPathComponent("sample-data/" + sample).path
        let files = try FileManager.default.contentsOfDirectory(atPath: fixtures).filter { $0.hasSuffix(".csv") }.sorted().map { fixtures + "/" + $0 }
        let options = ["--period", "2024-09", "--profile", "focus"]
        var inputParts: [String] = []
        var headers: [Int: Data] = [:]
        // set (partner hex) -> file -> [(seq, row)]
        var sets: [String: [Int: [(Int, Data)]]] = [:]
        for (index, file) in files.enumerated() {
            let rowsPath = folder.url.appendingPathComponent("rows-\(index).tsv").path
            let part = folder.url.appendingPathComponent("input-\(index).json").path
            let split = try BalanceReportBinary.run(["split-export", "--profile", "focus", "--rows", rowsPath, "--part", part, file])
            #expect(split.status == 0, "\(split.stderr)")
            inputParts.append(part)
            for line in try String(contentsOfFile: rowsPath, encoding: .utf8).split(separator: "\n") {
                let cells = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                if cells[0] == "header" { headers[index] = Data(base64Encoded: cells[4])!; continue }
                #expect(cells[0] == "raw" && cells.count == 6)
                sets[cells[5], default: [:]][index, default: []].append((Int(cells[1])!, Data(base64Encoded: cells[4])!))
            }
        }
        #expect(sets.count == partners, "one set per billing account")
        var renderParts: [String] = []
        for (number, set) in sets.keys.sorted().enumerated() {
            var shardFiles: [String] = []
            for (index, rows) in sets[set]!.sorted(by: { $0.key < $1.key }) {
                let dir = folder.url.appendingPathComponent("set-\(number)-raw-\(index)")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                var data = headers[index]!
                for (_, row) in rows.sorted(by: { $0.0 < $1.0 }) { data.append(row) }
                let path = dir.appendingPathComponent(URL(fileURLWithPath: files[index]).lastPathComponent).path
                try data.write(to: URL(fileURLWithPath: path))
                shardFiles.append(path)
            }
            let part = folder.url.appendingPathComponent("render-\(number).json").path
            let output = folder.url.appendingPathComponent("set-\(number)").path
            let render = try BalanceReportBinary.run(["render", "--quiet"] + options + (try Self.runCurrencies(inputParts))
                                                     + ["--out", output, "--summary-part", part] + shardFiles)
            #expect(render.status == 0, "\(render.stderr)")
            renderParts.append(part)
        }
        let merged = folder.url.appendingPathComponent("merged").path
        let result = try BalanceReportBinary.run(["merge-parts", "--quiet", "--out", merged] + inputParts + renderParts)
        #expect(result.status == 0, "\(result.stderr)")
        let single = folder.url.appendingPathComponent("single").path
        let one = try BalanceReportBinary.run(["render", "--quiet"] + options + ["--out", single] + files)
        #expect(one.status == 0, "\(one.stderr)")
        let a = fileTree(URL(fileURLWithPath: single)), b = fileTree(URL(fileURLWithPath: merged))
        #expect(a == b)
        for name in a + [".balance-report-output"] {
            let x = try Data(contentsOf: URL(fileURLWithPath: single + "/" + name))
            let y = try Data(contentsOf: URL(fileURLWithPath: merged + "/" + name))
            #expect(x == y, "\(name) differs")
        }
        let summary = try String(contentsOfFile: merged + "/summary.json", encoding: .utf8)
        #expect(summary.contains("\"amounts_rounded\"") == (sample == "focus-1.3"))
        #expect(summary.contains("\n  \"invoices\": ["))
        #expect(b.filter { $0.hasSuffix("/invoices.csv") }.count == partners)

        // A render part that says other invoices than its output's summary.json: refused, nothing published.
        let first = renderParts[0]
        let text = try String(contentsOfFile: first, encoding: .utf8)
        let edited = text.replacingOccurrences(of: "\"rows\":", with: "\"rows\":1")
        #expect(edited != text)
        try Data(edited.utf8).write(to: URL(fileURLWithPath: first))
        let refused = try BalanceReportBinary.run(["merge-parts", "--quiet", "--out", merged + "-2"] + inputParts + renderParts)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("does not say the invoices its summary.json says"), "\(refused.stderr)")
    }
}
