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
import Testing

/// Every golden output adds up, read back from its files as a finance reader would: each snapshot
/// row, each partner's totals in `summary.json` and each client's detail CSV satisfy
/// `opening + topups − charges + refunds + unattached_change = closing`, and a detail CSV's
/// balance column chains row by row from the opening balance to the closing one.
@Suite("Golden outputs add up")
struct GoldenIdentityTests {
    /// A golden case's file: its own copy, or the full case's one it shares.
    static func file(_ caseName: String, _ path: String) -> URL {
        let own = GoldenFiles.root.appendingPathComponent(caseName).appendingPathComponent(path)
        if FileManager.default.fileExists(atPath: own.path) { return own }
        return GoldenFiles.root.appendingPathComponent(GoldenTests.cases[0].name).appendingPathComponent(path)
    }

    /// Every file a golden case's run produced: its `FILES` list when it keeps only its differences.
    static func files(_ caseName: String) throws -> [String] {
        let folder = GoldenFiles.root.appendingPathComponent(caseName)
        let manifest = folder.appendingPathComponent(GoldenTests.manifest)
        guard FileManager.default.fileExists(atPath: manifest.path) else { return fileTree(folder) }
        return try String(contentsOf: manifest, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// Rows of a CSV file (either dialect), the header first, as a dictionary per row.
    static func table(_ url: URL) -> [[String: String]] {
        let rows = IngestCSVTestReader.read(path: url.path).rows
        guard let header = rows.first else { return [] }
        return rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    static func amount(_ text: String?, comma: Bool) throws -> Money {
        try AmountParser.parse(try #require(text), mark: comma ? .comma : .point, allowNegative: true)
    }

    @Test("every snapshot row, every partner total and every detail CSV add up", arguments: GoldenTests.cases.map(\.name))
    func identityHolds(caseName: String) throws {
        let files = try GoldenIdentityTests.files(caseName)
        let comma = caseName.contains("excel-ru")
        let partners = files.filter { $0.hasSuffix("/snapshot.csv") }.map { String($0.dropLast("/snapshot.csv".count)) }
        #expect(!partners.isEmpty)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: GoldenIdentityTests.file(caseName, "summary.json"))) as! [String: Any]
        // By folder: a partner id that is not a plain file name (an Azure billing account) is encoded.
        // A run of several currencies gives each partner's totals per currency (key ""): one currency.
        let several = summary["currencies"] != nil
        let totalsByPartner = Dictionary(uniqueKeysWithValues: (summary["partners"] as! [[String: Any]]).map {
            (FileNames.safeName(for: $0["partner_id"] as! String),
             several ? $0["totals"] as! [String: [String: String]] : ["": $0["totals"] as! [String: String]])
        })
        var gapRows = 0
        for partner in partners {
            var sums: [String: BalanceMovement] = [:]
            var postpaid = false
            for row in GoldenIdentityTests.table(GoldenIdentityTests.file(caseName, partner + "/snapshot.csv")) {
                let id = try #require(row["client_id"])
                let currency = row["currency"] ?? ""
                guard row["opening_balance"] != "" else {
                    #expect(row["closing_balance"] == "" && row["unattached_change"] == "", "\(caseName) \(partner) \(id): money shown in part")
                    // A postpaid layout (`balances: no`) shows spend without balances: its movements add up.
                    if row["charges"] != "" {
                        postpaid = true
                        var m = sums[currency] ?? BalanceMovement()
                        m.topups += try GoldenIdentityTests.amount(row["topups"], comma: comma)
                        m.charges += try GoldenIdentityTests.amount(row["charges"], comma: comma)
                        m.refunds += try GoldenIdentityTests.amount(row["refunds"], comma: comma)
                        sums[currency] = m
                    }
                    continue
                }
                var m = BalanceMovement()
                m.opening = try GoldenIdentityTests.amount(row["opening_balance"], comma: comma)
                m.topups = try GoldenIdentityTests.amount(row["topups"], comma: comma)
                m.charges = try GoldenIdentityTests.amount(row["charges"], comma: comma)
                m.refunds = try GoldenIdentityTests.amount(row["refunds"], comma: comma)
                m.unattachedChange = try GoldenIdentityTests.amount(row["unattached_change"], comma: comma)
                m.closing = try GoldenIdentityTests.amount(row["closing_balance"], comma: comma)
                #expect(m.addsUp, "\(caseName) \(partner) \(id): \(RunSummary.identity(m))")
                sums[currency] = (sums[currency] ?? BalanceMovement()) + m

                // The detail CSV: the balance column chains from the opening balance to the closing one.
                var balance = m.opening
                var unattached = Money.zero
                let detailFile = GoldenIdentityTests.file(caseName, partner + "/clients/\(FileNames.safeName(for: id)).csv")
                #expect(FileManager.default.fileExists(atPath: detailFile.path), "\(caseName) \(partner) \(id): no detail CSV")
                // A client with money in two currencies: its rows of this one, in their own balance.
                for line in GoldenIdentityTests.table(detailFile) where (line["currency"] ?? "") == currency {
                    let amount = try GoldenIdentityTests.amount(line["amount"], comma: comma)
                    switch line["type"] {
                    case "topup", "refund": balance += amount
                    case "charge": balance -= amount
                    case "unattached_change": balance += amount; unattached += amount; gapRows += 1
                    default: Issue.record("\(caseName) \(partner) \(id): a row of type \(line["type"] ?? "?")")
                    }
                    #expect(balance == (try GoldenIdentityTests.amount(line["balance_after"], comma: comma)), "\(caseName) \(partner) \(id): \(line)")
                }
                #expect(balance == m.closing, "\(caseName) \(partner) \(id): the rows end at \(balance), the snapshot closes at \(m.closing)")
                #expect(unattached == m.unattachedChange, "\(caseName) \(partner) \(id): gap rows \(unattached) vs \(m.unattachedChange)")
            }
            // The partner's totals: the clients' sums, and the identity holds on them too.
            for (currency, totals) in try #require(totalsByPartner[partner]) {
                let sum = sums[several ? currency : ""] ?? BalanceMovement()
                var t = BalanceMovement()
                t.opening = try GoldenIdentityTests.amount(totals["opening_balance"], comma: false)
                t.topups = try GoldenIdentityTests.amount(totals["topups"], comma: false)
                t.charges = try GoldenIdentityTests.amount(totals["charges"], comma: false)
                t.refunds = try GoldenIdentityTests.amount(totals["refunds"], comma: false)
                t.unattachedChange = try GoldenIdentityTests.amount(totals["unattached_change"], comma: false)
                t.closing = try GoldenIdentityTests.amount(totals["closing_balance"], comma: false)
                if postpaid {
                    #expect(KindTotals(t) == KindTotals(sum), "\(caseName) \(partner) \(currency): the totals are not the sum of the snapshot rows")
                    continue
                }
                #expect(t == sum, "\(caseName) \(partner) \(currency): the totals are not the sum of the snapshot rows")
                #expect(t.addsUp, "\(caseName) \(partner) totals: \(RunSummary.identity(t))")
            }
        }
        // The sample has one client removed and added again in March (cl-1008): the month shows its gap.
        if caseName.hasPrefix("sample-") && !caseName.contains("first-half") { #expect(gapRows == 1, "\(caseName): \(gapRows) gap rows") }
    }

    /// The sample's figures of issue 10: vega-it adds up to 53 754,27 with the −250 that moved cl-1008's
    /// balance while it was detached, and the page shows that row.
    @Test func theVegaSummaryAddsUp() throws {
        let index = try String(contentsOf: GoldenIdentityTests.file("sample-2024-03", "vega-it/index.html"), encoding: .utf8)
        let text = EmailHTMLChecker(index).text
        for figure in ["29\u{00A0}558,38", "32\u{00A0}000,00", "8\u{00A0}538,73", "734,62", "\u{2212}250,00", "53\u{00A0}504,27"] {
            #expect(text.contains(figure + "\u{00A0}₽"), "vega-it index.html lacks \(figure)")
        }
        #expect(text.contains("Изменение вне подключения"))
        let client = EmailHTMLChecker(try String(contentsOf: GoldenIdentityTests.file("sample-2024-03", "vega-it/clients/cl-1008.html"),
                                                 encoding: .utf8)).text
        #expect(client.contains("10.03.2024 10:00 – 16.03.2024 12:00"))
        #expect(client.contains("Изменение вне подключения"))
    }
}

/// `scripts/check_currencies.py`, an independent Python reading of the rules of several currencies
/// (issue 23), agrees with every figure of the golden run in RUB, USD and KZT: each client's money
/// per currency, spend per service and day, running balances, control and partner totals.
@Suite("The currency checker agrees with the goldens")
struct CurrencyCheckerTests {
    @Test func everyFigureOfTheRunOfThreeCurrenciesAgrees() throws {
        let inputs = GoldenTests.inputs("currencies-2024-03")
        let golden = GoldenFiles.root.appendingPathComponent("currencies-2024-03").path
        let check = try PythonScript.run("../../scripts/check_currencies.py", ["2024-03-01", "2024-03-31", golden] + inputs,
                                         in: Repository.root)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.hasSuffix("figures agree\n"))
        #expect((Int(check.stdout.split(separator: " ").first ?? "") ?? 0) >= 60, "\(check.stdout)")
    }
}

/// `scripts/sample_oracle.py`, an independent Python reading of the rules, agrees with the goldens:
/// `sample-data/EXPECTED.md` is what it prints today, and its snapshot tables hold the golden
/// snapshot.csv's money, unattached change included.
@Suite("The sample oracle agrees with the goldens")
struct SampleOracleTests {
    @Test func expectedMarkdownIsCurrentAndMatchesTheGoldenSnapshots() throws {
        let oracle = try PythonScript.run("../../scripts/sample_oracle.py", ["sample-data"], in: Repository.root)
        #expect(oracle.status == 0, "\(oracle.stderr)")
        let expected = try String(contentsOf: Repository.sampleData.appendingPathComponent("EXPECTED.md"), encoding: .utf8)
        #expect(oracle.stdout == expected, "sample-data/EXPECTED.md is stale: run python3 scripts/sample_oracle.py --write sample-data/EXPECTED.md sample-data")
        var compared = 0
        for partner in ["alfa-cloud", "vega-it"] {
            // The snapshot table after "## Partner `P`".
            let section = try #require(expected.range(of: "## Partner `\(partner)`"))
            let rows = expected[section.upperBound...].split(separator: "\n").drop { !$0.hasPrefix("| client_id") }.dropFirst(2)
                .prefix { $0.hasPrefix("|") }
            let golden = GoldenIdentityTests.table(GoldenIdentityTests.file("sample-2024-03", partner + "/snapshot.csv"))
            #expect(rows.count == golden.count)
            for (row, csv) in zip(rows, golden) {
                let cells = row.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                    .dropFirst().dropLast()
                let values = Array(cells)
                #expect(values[0] == "`\(csv["client_id"]!)`")
                for (index, column) in ["opening_balance", "topups", "charges", "refunds", "unattached_change", "closing_balance"].enumerated() {
                    let oracleValue = values[6 + index]
                    if oracleValue.isEmpty {
                        #expect(csv[column] == "", "\(partner) \(values[0]) \(column)")
                    } else {
                        #expect(try GoldenIdentityTests.amount(oracleValue, comma: false) == GoldenIdentityTests.amount(csv[column], comma: false),
                                "\(partner) \(values[0]) \(column): oracle \(oracleValue), golden \(csv[column] ?? "")")
                        compared += 1
                    }
                }
            }
        }
        #expect(compared == 54)
    }
}
