import Foundation
import Testing
@testable import BalanceTestSupport

/// Renders the shipped `sample-data/` with the built binary and compares every output file with
/// the committed goldens under `Fixtures/golden/`.
///
/// Re-record with `BALANCE_REPORT_RECORD=1 swift test --filter Golden`: the run writes the goldens
/// and then fails, so a recording never passes silently. Review the diff before committing.
@Suite("Golden files over sample-data")
struct GoldenTests {
    static let goldenRoot = GoldenFiles.root

    static let cases: [(name: String, arguments: [String])] = [
        ("sample-2024-03", []),
        ("sample-2024-03-excel-ru", ["--csv-dialect", "excel-ru"]),
        ("sample-2024-03-first-half", ["--from", "2024-03-01", "--to", "2024-03-15"]),
        // English pages, and report.eml as a draft (no To:, From: or Date:, X-Unsent: 1).
        ("sample-2024-03-en", ["--lang", "en", "--eml"]),
        // report.eml ready to send: To: from the contacts file (alfa-cloud only), From:, a given Date:.
        ("sample-2024-03-eml", EmailFixture.sendArguments),
        // The built-in profiles over fixtures written from each layout's specification (issue 9):
        // every file of their own, in full.
        ("focus-2024-09", ["--period", "2024-09", "--profile", "focus", "--lang", "en"]),
        ("yandex-2024-03", ["--profile", "yandex-cloud-partner"]),
        // FOCUS 1.0–1.3 as AWS, Azure and GCP write them (issue 22, scripts/make_focus_fixtures.py):
        // float-printed and E-notation amounts, a sub-account under two billing accounts,
        // account-level charges; in 1.3 an overlapping 1.2 export.
        ("focus-1.0-2024-09", ["--period", "2024-09", "--profile", "focus", "--lang", "en"]),
        ("focus-1.1-2024-09", ["--period", "2024-09", "--profile", "focus", "--lang", "en"]),
        ("focus-1.2-2024-09", ["--period", "2024-09", "--profile", "focus", "--lang", "en"]),
        ("focus-1.3-2024-09", ["--period", "2024-09", "--profile", "focus", "--lang", "en"]),
        // Invoices beside the period (issue 23): two partners, rows at both Moscow month edges, on the
        // August invoice and on none, corrections of August and July on the September invoice.
        ("focus-invoices-2024-09", ["--period", "2024-09", "--profile", "focus", "--lang", "en"]),
        // Daily usage (issue 13): a spend spike, a balance that runs out within 7 days, a client
        // attached too recently for its jump to be judged; rows not in time order. Both languages.
        ("daily-2024-03", []),
        ("daily-2024-03-en", ["--lang", "en", "--eml"]),
        // Change since February (issue 13): changes.csv, the change on the summary and the client pages.
        ("sample-2024-03-compare", ["--compare", "previous"]),
        // Several currencies in one run (issue 23): RUB, USD, KZT (and an unknown client's EUR);
        // a client with money in two currencies and a checkpoint named by balance_currency;
        // attachment windows per currency; the workbooks and the e-mail too.
        ("currencies-2024-03", ["--xlsx", "--eml"]),
        // A Yandex-layout export in RUB, USD and KZT, a billing account moving from RUB to KZT.
        ("yandex-currencies-2024-03", ["--profile", "yandex-cloud-partner", "--lang", "en", "--eml"]),
        // FOCUS with two billing currencies (USD, EUR), one sub-account under both.
        ("focus-currencies-2024-09", ["--period", "2024-09", "--profile", "focus", "--lang", "en"]),
    ]

    /// The inputs of a case: a profile case reads its fixtures, every other case sample-data.
    static func inputs(_ name: String) -> [String] {
        let folder = ["currencies", "yandex-currencies", "focus-currencies", "focus-1.0", "focus-1.1", "focus-1.2", "focus-1.3",
                      "focus-invoices", "focus", "yandex", "daily"].first { name.hasPrefix($0 + "-") }
        guard let folder else { return Repository.sampleFiles }
        let path = "sample-data/" + folder
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Repository.root.appendingPathComponent(path).path)) ?? []
        return names.filter { $0.hasSuffix(".csv") }.sorted().map { path + "/" + $0 }
    }

    // One case at a time, the full one first: re-recording rewrites it while the others compare with it.
    @Test("sample-data renders exactly as the goldens", .serialized, arguments: 0..<GoldenTests.cases.count)
    func matchesGoldens(caseIndex: Int) throws {
        let (name, extra) = GoldenTests.cases[caseIndex]
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out")
        let period = extra.contains("--from") || extra.contains("--period") ? [] : ["--period", "2024-03"]
        let inputs = GoldenTests.inputs(name)
        let result = try BalanceReportBinary.run(["render"] + period + extra + ["--out", out.path, "--quiet"] + inputs)
        #expect(result.status == 0, "render failed: \(result.stderr)")
        try #require(result.status == 0)

        let golden = GoldenFiles.root.appendingPathComponent(name)
        // The first case keeps every file; the others keep only the files that differ from it,
        // and a FILES list of everything the run must produce.
        let base = caseIndex == 0 || inputs != Repository.sampleFiles ? nil : GoldenFiles.root.appendingPathComponent(GoldenTests.cases[0].name)
        let produced = fileTree(out)
        if ProcessInfo.processInfo.environment["BALANCE_REPORT_RECORD"] == "1" {
            try? FileManager.default.removeItem(at: golden)
            try FileManager.default.createDirectory(at: golden, withIntermediateDirectories: true)
            for file in produced {
                let bytes = try Data(contentsOf: out.appendingPathComponent(file))
                if let base, (try? Data(contentsOf: base.appendingPathComponent(file))) == bytes { continue }
                let target = golden.appendingPathComponent(file)
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try bytes.write(to: target)
            }
            if base != nil {
                try Data((produced.joined(separator: "\n") + "\n").utf8).write(to: golden.appendingPathComponent(GoldenTests.manifest))
            }
            Issue.record("recorded goldens in \(golden.path); review the diff and run again without BALANCE_REPORT_RECORD")
            return
        }

        let expected: [String]
        if base != nil {
            let list = (try? String(contentsOf: golden.appendingPathComponent(GoldenTests.manifest), encoding: .utf8)) ?? ""
            expected = list.split(separator: "\n").map(String.init).sorted()
        } else {
            expected = fileTree(golden)
        }
        #expect(!expected.isEmpty, "no goldens at \(golden.path): record them with BALANCE_REPORT_RECORD=1")
        #expect(produced == expected, "the set of output files differs")
        for file in Set(produced).intersection(expected).sorted() {
            let actual = try Data(contentsOf: out.appendingPathComponent(file))
            let own = golden.appendingPathComponent(file)
            let source = FileManager.default.fileExists(atPath: own.path) ? own : (base ?? golden).appendingPathComponent(file)
            let wanted = try Data(contentsOf: source)
            if actual != wanted {
                Issue.record("\(name)/\(file) differs from its golden: \(firstDifference(actual, wanted))")
            }
        }
    }

    /// In a case that stores only its differences, the list of every file its run produces.
    static let manifest = "FILES"

    /// Every output file SPEC §4 names exists for each partner, with the columns in SPEC order.
    @Test func everySpecFileExistsWithItsColumns() throws {
        let golden = GoldenFiles.root.appendingPathComponent("sample-2024-03")
        let files = Set(fileTree(golden))
        #expect(files.contains("summary.json"))
        let headers = [
            "services.csv": "client_id,service,charged,refunded,net",
            "daily.csv": "client_id,date,service,net",
            "snapshot.csv": "client_id,name,email,phone,state,state_since,opening_balance,topups,charges,refunds,unattached_change,closing_balance,spend_rate_daily,runway_days",
        ]
        for partner in ["alfa-cloud", "vega-it"] {
            for page in ["index.html", "snapshot.html"] { #expect(files.contains("\(partner)/\(page)")) }
            for (file, header) in headers {
                let text = try String(contentsOf: golden.appendingPathComponent("\(partner)/\(file)"), encoding: .utf8)
                #expect(text.split(separator: "\n").first.map(String.init) == header, "\(partner)/\(file)")
            }
            let snapshot = try String(contentsOf: golden.appendingPathComponent("\(partner)/snapshot.csv"), encoding: .utf8)
            let clientIDs = snapshot.split(separator: "\n").dropFirst().compactMap { line -> String? in
                line.hasPrefix("cl-") ? String(line.prefix { $0 != "," }) : nil
            }
            #expect(!clientIDs.isEmpty)
            for id in clientIDs {
                #expect(files.contains("\(partner)/clients/\(id).html"))
                let detail = try String(contentsOf: golden.appendingPathComponent("\(partner)/clients/\(id).csv"), encoding: .utf8)
                #expect(detail.hasPrefix("id,timestamp,type,service,amount,balance_after\n"))
            }
        }
    }

    func firstDifference(_ a: Data, _ b: Data) -> String {
        let left = String(decoding: a, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let right = String(decoding: b, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<max(left.count, right.count) {
            let l = index < left.count ? String(left[index]) : "<end of file>"
            let r = index < right.count ? String(right[index]) : "<end of file>"
            if l != r { return "line \(index + 1):\n  got:    \(l)\n  golden: \(r)" }
        }
        return "bytes differ (\(a.count) vs \(b.count))"
    }
}
