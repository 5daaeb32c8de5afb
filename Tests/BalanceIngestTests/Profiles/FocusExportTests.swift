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

/// Issue 22: FOCUS exports as AWS, Azure and GCP write them. Each problem seen, as a test: float-
/// printed and E-notation amounts, a sub-account under two billing accounts, account-level charges,
/// and the smaller ones (FOCUS 0.5's ChargeType, snake_case headers, overlapping exports of two
/// versions, identical rows of one file, a positive Credit, lower-case categories).
@Suite("FOCUS exports as providers write them")
struct FocusExportTests {
    static let header = "BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,ChargeCategory,ChargeDescription,ChargePeriodStart,ServiceName,SubAccountId,SubAccountName"

    static func ingest(_ files: [String]) throws -> IngestedExport {
        let options = IngestOptions(profile: try ImportProfile.resolve("focus"), inputOffsetSeconds: nil, renames: [:], encoding: nil).forFile("x.csv")
        return Ingestor.ingest(paths: files, options: options)
    }

    /// Renders with the focus profile; returns the `services.csv` rows by partner folder and summary.json.
    static func render(_ files: [String], in temp: TemporaryFolder, extra: [String] = []) throws -> (services: [String: [String]], summary: [String: Any], stderr: String) {
        let out = temp.url.appendingPathComponent("out-\(UUID().uuidString)")
        let result = try BalanceReportBinary.run(["render", "--period", "2024-09", "--profile", "focus", "--out", out.path] + extra + files)
        #expect(result.status == 0, "\(result.stderr)")
        var services: [String: [String]] = [:]
        for file in fileTree(out) where file.hasSuffix("/services.csv") {
            let text = try String(contentsOf: out.appendingPathComponent(file), encoding: .utf8)
            services[String(file.prefix { $0 != "/" })] = text.split(separator: "\n").dropFirst().map(String.init)
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any] ?? [:]
        return (services, json, result.stderr)
    }

    // MARK: 1. Float-printed and E-notation amounts

    @Test("float-printed and E-notation amounts are read exactly and rounded half to even to 12 digits", arguments: [
        ("227.28753400000005", "227.287534", false),
        ("889.0600830000001", "889.060083", false),
        ("8.0E-7", "0.0000008", false),
        ("35.2E-7", "0.00000352", false),
        ("1E+2", "100.00", false),
        ("1e2", "100.00", false),
        ("5E-1", "0.50", false),
        ("0", "0.00", false),
        ("0.0000000000005", "0.00", false),       // a tie: to the even pico, 0
        ("0.0000000000015", "0.000000000002", false),
        ("0.0000000000025", "0.000000000002", false),
        ("0.00000000000250001", "0.000000000003", false),
        ("1.2345678901234567E-14", "0.00", false),
        ("-0.1234567890123456", "-0.123456789012", true),
        ("-30", "-30.00", true),
        ("120.000000000001", "120.000000000001", false),
        ("1.9999999999999998E-4", "0.0002", false),
    ])
    func floatAmounts(_ text: String, _ expected: String, _ negative: Bool) throws {
        let parsed = try FloatAmountParser.parse(text)
        #expect(parsed.money.description == expected)
        #expect(parsed.negative == negative)
    }

    @Test("text that is not a FOCUS number is still refused, with a reason", arguments: [
        "", "NaN", "Infinity", "1e", "1E+", "1.2.3", "--1", "+1", "1,5", " 5", "5 ", ".5", "5.", "1E2.5", "0x10", "1 000", "1E99999",
        "2E+12",
    ])
    func notNumbers(_ text: String) {
        #expect(throws: FieldError.self) { try FloatAmountParser.parse(text) }
    }

    @Test("the native layout keeps its strict rule: no exponent, no thirteenth digit")
    func strictWithoutTheKey() {
        #expect(throws: FieldError.self) { try AmountParser.parse("8.0E-7", mark: .point) }
        #expect(throws: FieldError.self) { try AmountParser.parse("227.28753400000005", mark: .point) }
    }

    @Test("the roundings add up exactly, however many digits each one drops")
    func roundingTotal() throws {
        var rounding = AmountRounding()
        for text in ["227.28753400000005", "-0.1234567890123456", "8.0E-7", "1.2345678901234567E-14", "0.0000000000015"] {
            rounding.add(try FloatAmountParser.parse(text))
        }
        // −0.05 + 0.3456 − 0.012345678901234567 + 0.5 picos (8.0E-7 is exact).
        #expect(rounding.count == 4)
        #expect(rounding.difference == "0.000000000000783254321098765433")
        var merged = AmountRounding()
        merged.merge(rounding)
        #expect(AmountRounding(parts: rounding.parts) == rounding)
        #expect(merged.difference == rounding.difference)
        #expect(AmountRounding().difference == "0.00")
    }

    /// Checked against an independent reader of decimals (Python's `decimal`, exact, half to even).
    @Test("random float-printed amounts read as Python's decimal reads them (seeded property), their roundings totalled alike")
    func againstPythonDecimal() throws {
        var generator = SplitMix64(seed: 22)
        var texts: [String] = []
        for _ in 0..<3_000 {
            let digits = String((0..<Int.random(in: 1...19, using: &generator)).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
            var text = Bool.random(using: &generator) ? "-" : ""
            // At most 8 whole digits and an exponent up to 3: below the trillion-unit cap.
            let point = Int.random(in: 1...min(8, digits.count), using: &generator)
            text += point == digits.count ? digits : String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
            if Int.random(in: 0..<3, using: &generator) == 0 {
                let exponent = Int.random(in: -30...3, using: &generator)
                text += (Bool.random(using: &generator) ? "E" : "e") + (exponent >= 0 && Bool.random(using: &generator) ? "+" : "") + String(exponent)
            }
            texts.append(text)
        }
        var ours: [String] = []
        var rounding = AmountRounding()
        for text in texts {
            let parsed = try FloatAmountParser.parse(text)
            ours.append(parsed.money.description)
            rounding.add(parsed)
        }
        let result = try PythonScript.inline("""
            import sys
            from decimal import Decimal, getcontext, ROUND_HALF_EVEN
            getcontext().prec = 200
            total, count = Decimal(0), 0
            for text in sys.argv[1:]:
                exact = Decimal(text)
                rounded = exact.quantize(Decimal("1e-12"), rounding=ROUND_HALF_EVEN)
                if rounded != exact:
                    count += 1
                    total += rounded - exact
                print(format(rounded, "f"))
            print(count, total)
            """, texts)
        var lines = result.stdout.split(separator: "\n").map(String.init)
        let last = lines.removeLast().split(separator: " ").map(String.init)
        #expect(lines.count == texts.count)
        for (index, line) in lines.enumerated() where index < ours.count {
            let expected = try AmountParser.parse(line, mark: .point, allowNegative: true)
            #expect(expected.description == ours[index], "\(texts[index])")
        }
        #expect(String(rounding.count) == last.first)
        // Python writes the total with an exponent; compare as exact decimals.
        let check = try PythonScript.inline("import sys; from decimal import Decimal; print(Decimal(sys.argv[1]) == Decimal(sys.argv[2]))",
                                            [rounding.difference, last.last ?? ""])
        #expect(check.stdout == "True\n", "\(rounding.difference) vs \(last.last ?? "")")
    }

    @Test("a FOCUS export with float-printed amounts renders with none rejected, the roundings in the summary")
    func floatPrintedRender() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let file = try temp.file("focus.csv", """
        \(Self.header)
        227.28753400000005,100000000001,Payer One,USD,Usage,EC2,2024-09-05 10:00:00,Compute,200000000001,Dev
        8.0E-7,100000000001,Payer One,USD,Usage,S3,2024-09-05 11:00:00,Storage,200000000001,Dev
        -0.1234567890123456,100000000001,Payer One,USD,Credit,Credit,2024-09-05 11:00:00,Compute,200000000001,Dev

        """)
        let (services, summary, stderr) = try Self.render([file], in: temp)
        #expect(services["100000000001"] == ["200000000001,Compute,227.287534,0.123456789012,227.164077210988",
                                             "200000000001,Storage,0.0000008,0.00,0.0000008"])
        let rounded = summary["amounts_rounded"] as? [String: Any]
        #expect(rounded?["count"] as? Int == 2)
        #expect(rounded?["difference"] as? String == "0.0000000000002956")
        #expect(stderr.contains("2 float-printed amount(s) rounded half to even to 12 fractional digits; total difference (rounded − written) 0.0000000000002956 USD"))
        let transactions = (summary["records"] as? [String: Any])?["transaction"] as? [String: Any]
        #expect((transactions?["rejected"] as? [String: Any])?["count"] as? Int == 0)
    }

    // MARK: 2. A sub-account under two billing accounts

    @Test("a sub-account billed under two billing accounts: each row's money under the partner it names")
    func twoBillingAccounts() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let file = try temp.file("focus.csv", """
        \(Self.header)
        5.00,100000000001,Payer One,USD,Usage,EC2,2024-09-05 10:00:00,Compute,200000000003,Data
        10.73,100000000002,Payer Two,USD,Usage,EC2,2024-09-20 10:00:00,Compute,200000000003,Data

        """)
        let (services, summary, _) = try Self.render([file], in: temp)
        #expect(services["100000000001"] == ["200000000003,Compute,5.00,0.00,5.00"])
        #expect(services["100000000002"] == ["200000000003,Compute,10.73,0.00,10.73"])
        let partners = (summary["partners"] as? [[String: Any]])?.map { ($0["partner_id"] as? String ?? "", $0["clients"] as? Int ?? 0) }
        #expect(partners?.map(\.0) == ["100000000001", "100000000002"])
        #expect(partners?.map(\.1) == [1, 1])
    }

    @Test("the ledger keeps one client per partner and sub-account; the shown id is the row's own")
    func ledgerKeys() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let file = try temp.file("focus.csv", """
        \(Self.header)
        5.00,A,Payer A,USD,Usage,EC2,2024-09-05 10:00:00,Compute,sub,Sub
        7.00,B,Payer B,USD,Usage,EC2,2024-09-05 10:00:00,Compute,sub,Sub

        """)
        let export = try Self.ingest([file])
        #expect(export.rejections.isEmpty)
        let ledger = Ledger.build(from: export)
        let clients = ledger.clients.values.map { ($0.record.partnerID, $0.record.id, $0.transactions.count) }.sorted { $0.0 < $1.0 }
        #expect(clients.map(\.0) == ["A", "B"])
        #expect(clients.map(\.1) == ["sub", "sub"])
        #expect(clients.map(\.2) == [1, 1])
        #expect(RowPartnerKey.decode(RowPartnerKey.encode(partner: Array("A\u{1F}1".utf8), client: Array("x".utf8)))?.partner == Array("A\u{1F}1".utf8))
    }

    @Test("with a clients file, a FOCUS row's client is looked up by its SubAccountId (the file names the partner)")
    func clientsFileWins() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let clients = try temp.file("clients.csv", "client_id,name,email,phone,partner_id\nsub,Sub,a@b.c,,p1\n")
        let file = try temp.file("focus.csv", """
        \(Self.header)
        5.00,A,Payer A,USD,Usage,EC2,2024-09-05 10:00:00,Compute,sub,Sub
        7.00,A,Payer A,USD,Usage,EC2,2024-09-05 10:00:00,Compute,stranger,Stranger

        """)
        let out = temp.url.appendingPathComponent("out")
        let result = try BalanceReportBinary.run(["render", "--period", "2024-09", "--profile", "focus", "--allow-rejects", "--out", out.path, clients, file])
        #expect(result.status == 0, "\(result.stderr)")
        let services = try String(contentsOf: out.appendingPathComponent("p1/services.csv"), encoding: .utf8)
        #expect(services.contains("sub,Compute,5.00,0.00,5.00"))
        // The unknown client is named by its own id, not by the key that holds its partner.
        #expect(result.stderr.contains("  stranger: 1 transaction(s)"), "\(result.stderr)")
    }

    // MARK: 3. Account-level charges

    @Test("a row with a billing account and a null SubAccountId is the partner's account-level charge")
    func accountLevel() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let file = try temp.file("focus.csv", """
        \(Self.header)
        100,100000000001,Payer One,USD,Purchase,Support,2024-09-01 00:00:00,AWS Support,NULL,NULL
        21.430000000000003,100000000001,Payer One,USD,Tax,VAT,2024-09-29 00:00:00,Tax,,
        3.00,100000000002,Payer Two,USD,Tax,VAT,2024-09-29 00:00:00,Tax,,

        """)
        let (services, summary, _) = try Self.render([file], in: temp)
        #expect(services["100000000001"] == ["(account-level),AWS Support,100.00,0.00,100.00", "(account-level),Tax,21.43,0.00,21.43"])
        #expect(services["100000000002"] == ["(account-level),Tax,3.00,0.00,3.00"])
        let accepted = ((summary["records"] as? [String: Any])?["transaction"] as? [String: Any])?["accepted"] as? [String: Any]
        #expect(accepted?["count"] as? Int == 3)
        #expect(accepted?["amount"] as? String == "124.43")
        let export = try Self.ingest([file])
        let ledger = Ledger.build(from: export)
        #expect(Set(ledger.clients.values.map(\.record.name)) == [RowPartnerKey.accountLevelName])
    }

    @Test("a row that names neither a partner nor a client is still rejected, with its amount")
    func neitherPartnerNorClient() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let file = try temp.file("focus.csv", "\(Self.header)\n4.5,NULL,,USD,Usage,x,2024-09-01 00:00:00,S,NULL,\n")
        let export = try Self.ingest([file])
        #expect(export.rejections.map(\.reason) == ["client_id is empty"])
        #expect(export.rejections.first?.amount?.description == "4.50")
    }

    // MARK: 4. The smaller ones

    @Test("FOCUS 0.5's ChargeType, snake_case column ids and lower-case categories are read")
    func olderAndOtherSpellings() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let old = try temp.file("focus-0.5.csv", """
        BilledCost,BillingAccountId,BillingCurrency,ChargeType,ChargePeriodStart,ServiceName,SubAccountId,SubAccountName
        1.25,A,USD,Usage,2024-09-02 00:00:00,Compute,sub-1,One

        """)
        let snake = try temp.file("focus-snake.csv", """
        billed_cost,billing_account_id,billing_currency,charge_category,charge_period_start,service_name,sub_account_id,sub_account_name
        2.5,A,USD,usage,2024-09-02T01:00:00Z,Compute,sub-1,One
        -0.5,A,USD,credit,2024-09-02T01:00:00Z,Compute,sub-1,One

        """)
        let export = try Self.ingest([old, snake])
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        #expect(export.transactions.count == 3)
        #expect(export.derivedClients.map(\.partnerID) == ["A"])
        #expect(export.derivedClients.map(\.name) == ["One"])
        let (services, _, _) = try Self.render([old, snake], in: temp)
        #expect(services["A"] == ["sub-1,Compute,3.75,0.50,3.25"])
    }

    @Test("a positive Credit is a credit taken back: a charge; a negative one a refund")
    func positiveCredit() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let file = try temp.file("focus.csv", """
        \(Self.header)
        -4,A,Payer,USD,Credit,Promo,2024-09-02 00:00:00,Compute,sub,Sub
        1.5,A,Payer,USD,Credit,Promo taken back,2024-09-03 00:00:00,Compute,sub,Sub

        """)
        let export = try Self.ingest([file])
        #expect(export.transactions.map(\.kind) == [.refund, .charge])
    }

    @Test("identical rows of one file are that many charges; the same rows in an export of another FOCUS version are duplicates")
    func rowIdentity() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let v10 = try temp.file("a-1.0.csv", """
        \(Self.header),ChargeClass
        0.5,A,Payer,USD,Usage,Egress,2024-09-05 10:00:00,Network,sub,Sub,NULL
        0.5,A,Payer,USD,Usage,Egress,2024-09-05 10:00:00,Network,sub,Sub,NULL
        1,A,Payer,USD,Usage,Egress,2024-09-05 11:00:00,Network,sub,Sub,NULL

        """)
        // The same three charges as a 1.2 export writes them: other columns, ISO times, E-notation.
        let v12 = try temp.file("b-1.2.csv", """
        BillingAccountType,\(Self.header),InvoiceId
        Billing Account,5E-1,A,Payer,USD,Usage,Egress,2024-09-05T10:00:00Z,Network,sub,Sub,INV-1
        Billing Account,5E-1,A,Payer,USD,Usage,Egress,2024-09-05T10:00:00Z,Network,sub,Sub,INV-1
        Billing Account,1.0,A,Payer,USD,Usage,Egress,2024-09-05T11:00:00Z,Network,sub,Sub,INV-1
        Billing Account,2,A,Payer,USD,Usage,Egress,2024-09-05T12:00:00Z,Network,sub,Sub,INV-1

        """)
        let (services, summary, _) = try Self.render([v10, v12], in: temp)
        #expect(services["A"] == ["sub,Network,4.00,0.00,4.00"])
        let transactions = (summary["records"] as? [String: Any])?["transaction"] as? [String: Any]
        #expect((transactions?["duplicate"] as? [String: Any])?["count"] as? Int == 3)
        #expect((transactions?["accepted"] as? [String: Any])?["count"] as? Int == 4)
    }

    @Test("the profile key is named in the profile, and refused when it is not yes or no")
    func profileKey() throws {
        #expect(try ImportProfile.resolve("focus").floatAmounts)
        #expect(try ImportProfile.parse("float_amounts: yes\n", path: "p.yaml").floatAmounts)
        #expect(throws: ProfileError.self) { try ImportProfile.parse("float_amounts: maybe\n", path: "p.yaml") }
        #expect(try ImportProfile.parse("row_ids: fields\n", path: "p.yaml").rowLayout.idsFromFields)
    }

    // MARK: The fixtures of each version

    @Test("the FOCUS 1.0–1.3 fixtures render with none rejected, and check_net.py agrees with every net", arguments: ["1.0", "1.1", "1.2", "1.3"])
    func versions(_ version: String) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let files = try BuiltInProfileTests.fixtures("focus-" + version)
        let out = temp.url.appendingPathComponent("out").path
        let render = try BalanceReportBinary.run(["render", "--period", "2024-09", "--profile", "focus", "--out", out] + files)
        #expect(render.status == 0, "\(render.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as? [String: Any]
        let transactions = (summary?["records"] as? [String: Any])?["transaction"] as? [String: Any]
        #expect((transactions?["rejected"] as? [String: Any])?["count"] as? Int == 0)
        #expect(((transactions?["accepted"] as? [String: Any])?["count"] as? Int ?? 0) > 0)
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", Repository.root.appendingPathComponent("scripts/check_net.py").path, "focus", "2024-09-01", "2024-09-30", out] + files
        let pipe = Pipe()
        check.standardError = pipe
        try check.run()
        let problems = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        #expect(check.terminationStatus == 0, "\(problems)")
    }
}
