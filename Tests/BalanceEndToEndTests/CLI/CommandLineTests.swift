import Foundation
import Testing
@testable import BalanceTestSupport

/// The executable as finance uses it: exit codes, what is written and what is not.
@Suite("Command line")
struct CommandLineTests {
    static let transactionsHeader = "id,timestamp,client_id,type,service,amount,currency,description\n"

    @Test func usageErrorsExitWithTwo() throws {
        #expect(try BalanceReportBinary.run([]).status == 2)
        #expect(try BalanceReportBinary.run(["render", "--out", "/tmp/x", "sample-data/clients.csv"]).status == 2)
        #expect(try BalanceReportBinary.run(["render", "--period", "2024-13", "--out", "/tmp/x", "sample-data/clients.csv"]).status == 2)
        #expect(try BalanceReportBinary.run(["render", "--period", "2024-03", "--from", "2024-03-01", "--to", "2024-03-02", "--out", "/tmp/x", "a.csv"]).status == 2)
        #expect(try BalanceReportBinary.run(["render", "--period", "2024-03", "--input-offset", "+25:00", "--out", "/tmp/balance-report-no-such-out", "a.csv"]).status == 2)
        #expect(try BalanceReportBinary.run(["validate"]).status == 2)
        #expect(try BalanceReportBinary.run(["--help"]).status == 0)
    }

    @Test func aRejectedRecordFailsTheRunAndWritesNothing() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let bad = try temp.file("bad.csv", CommandLineTests.transactionsHeader
            + "t1,2024-03-02T10:00:00+03:00,c1,charge,Compute,10.50,,\n"
            + "t2,2024-02-30T10:00:00+03:00,c1,charge,Compute,1.00,,\n"
            + "t3,2024-03-03T10:00:00+03:00,c1,charge,Compute,12abc,,\n")
        let out = temp.url.appendingPathComponent("out")
        let result = try BalanceReportBinary.run(["render", "--period", "2024-03", "--out", out.path, bad])
        #expect(result.status == 1)
        #expect(result.stderr.contains("bad.csv:3: timestamp has an impossible date"))
        #expect(result.stderr.contains("bad.csv:4: amount is not a number"))
        #expect(!FileManager.default.fileExists(atPath: out.path))
        #expect(fileTree(temp.url) == ["bad.csv"], "no staging folder is left behind")

        let allowed = try BalanceReportBinary.run(["render", "--period", "2024-03", "--allow-rejects", "--out", out.path, bad])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        let rejects = try String(contentsOf: out.appendingPathComponent("rejects.csv"), encoding: .utf8)
        #expect(rejects == "file,line,record,id,amount,reason\n"
                + "\(bad),3,transaction,t2,1.00,timestamp has an impossible date\n"
                + "\(bad),4,transaction,t3,,amount is not a number\n")
        let services = try String(contentsOf: out.appendingPathComponent("default/services.csv"), encoding: .utf8)
        #expect(services == "client_id,service,charged,refunded,net\nc1,Compute,10.50,0.00,10.50\n")
        let summary = try String(contentsOf: out.appendingPathComponent("summary.json"), encoding: .utf8)
        #expect(summary.contains("\"rejected_without_amount\": 1"))
    }

    @Test func aFailedRunLeavesThePreviousOutputUntouched() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out")
        let good = try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--out", out.path] + Repository.sampleFiles)
        #expect(good.status == 0)
        let before = fileTree(out)
        let summaryBefore = try Data(contentsOf: out.appendingPathComponent("summary.json"))
        let bad = try temp.file("bad.csv", CommandLineTests.transactionsHeader + "t1,garbage,c1,topup,,1,,\n")
        let failed = try BalanceReportBinary.run(["render", "--period", "2024-03", "--out", out.path, bad])
        #expect(failed.status == 1)
        #expect(fileTree(out) == before)
        #expect(try Data(contentsOf: out.appendingPathComponent("summary.json")) == summaryBefore)
    }

    @Test func aSuccessfulRunReplacesAnEarlierOutputWhole() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out")
        // An earlier output with a partner this run no longer has.
        let clients = try temp.file("clients.csv", "client_id,name,email,partner_id\nc1,C,c@example.com,old-partner\n")
        let first = try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--out", out.path, clients])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("old-partner/index.html").path))
        let result = try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--out", out.path] + Repository.sampleFiles)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("old-partner").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("alfa-cloud/index.html").path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.url.path).sorted() == ["clients.csv", "out"])
    }

    @Test func sameInputsGiveByteIdenticalOutputWhateverTheMachineSettings() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let first = temp.url.appendingPathComponent("first")
        let second = temp.url.appendingPathComponent("second")
        let a = try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--out", first.path] + Repository.sampleFiles,
                                            environment: ["TZ": "America/New_York", "LANG": "en_US.UTF-8"])
        let b = try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--out", second.path] + Repository.sampleFiles,
                                            environment: ["TZ": "Asia/Tokyo", "LANG": "ru_RU.UTF-8", "LC_ALL": "C"])
        #expect(a.status == 0 && b.status == 0)
        let files = fileTree(first)
        #expect(files == fileTree(second))
        #expect(files.count > 20)
        for file in files {
            #expect(try Data(contentsOf: first.appendingPathComponent(file)) == Data(contentsOf: second.appendingPathComponent(file)), "\(file)")
        }
    }

    @Test("a run of two currencies reports each on its own: a row per client and currency, totals per currency, never a sum")
    func twoCurrenciesAreReportedApart() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let file = try temp.file("t.csv", CommandLineTests.transactionsHeader
            + "t1,2024-03-02T10:00:00+03:00,c1,topup,,10,RUB,\n"
            + "t2,2024-03-02T11:00:00+03:00,c1,topup,,7,USD,\n"
            + "t3,2024-03-03T11:00:00+03:00,c1,charge,vm,2,USD,\n"
            + "t4,2024-03-03T12:00:00+03:00,c2,charge,vm,4,RUB,\n")
        let out = temp.url.appendingPathComponent("out")
        let result = try BalanceReportBinary.run(["render", "--period", "2024-03", "--out", out.path, file])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("currencies RUB, USD"))
        func read(_ path: String) throws -> String { try String(contentsOf: out.appendingPathComponent(path), encoding: .utf8) }
        let snapshot = try read("default/snapshot.csv").split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(snapshot[0].last == "currency")
        // c1 has a row per currency, each with its own balance; c2 one.
        #expect(snapshot.dropFirst().map { "\($0[0]) \($0.last!) \($0[11])" } == ["c1 RUB 10.00", "c1 USD 5.00", "c2 RUB -4.00"])
        #expect(try read("default/services.csv") == "client_id,service,charged,refunded,net,currency\nc1,vm,2.00,0.00,2.00,USD\nc2,vm,4.00,0.00,4.00,RUB\n")
        let detail = try read("default/clients/c1.csv")
        #expect(detail == """
            id,timestamp,type,service,amount,balance_after,currency
            t1,2024-03-02T10:00:00+03:00,topup,,10.00,10.00,RUB
            t2,2024-03-02T11:00:00+03:00,topup,,7.00,7.00,USD
            t3,2024-03-03T11:00:00+03:00,charge,vm,2.00,5.00,USD

            """)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as! [String: Any]
        #expect(summary["currencies"] as? [String] == ["RUB", "USD"])
        #expect(summary["currency"] == nil)
        let accepted = (summary["control_totals"] as! [String: Any])["accepted"] as! [String: [String: String]]
        #expect(accepted["RUB"] == ["topups": "10.00", "charges": "4.00", "refunds": "0.00"])
        #expect(accepted["USD"] == ["topups": "7.00", "charges": "2.00", "refunds": "0.00"])
        let partner = (summary["partners"] as! [[String: Any]])[0]["totals"] as! [String: [String: String]]
        #expect(partner["RUB"]?["closing_balance"] == "6.00")
        #expect(partner["USD"]?["closing_balance"] == "5.00")
        // The pages say which currency each amount is in, and never add two.
        let index = try read("default/index.html")
        #expect(index.contains("Итоги по клиентам, RUB") || index.contains("RUB</h2>"), "\(index)")
        #expect(index.contains("5,00") && index.contains("6,00"))
        #expect(!index.contains("11,00"), "a sum of two currencies")
        let page = try read("default/clients/c1.html")
        #expect(page.contains("Счёт в RUB") && page.contains("Счёт в USD"))
        // rejects.csv says the currency of each rejected amount too.
        let bad = try temp.file("bad.csv", CommandLineTests.transactionsHeader + "b1,2024-03-04T10:00:00+03:00,c1,zap,vm,9,USD,\n")
        let rejectsOut = temp.url.appendingPathComponent("rejects")
        let rejected = try BalanceReportBinary.run(["render", "--period", "2024-03", "--allow-rejects", "--out", rejectsOut.path, file, bad])
        #expect(rejected.status == 0, "\(rejected.stderr)")
        let rejects = try String(contentsOf: rejectsOut.appendingPathComponent("rejects.csv"), encoding: .utf8).split(separator: "\n")
        #expect(rejects.first == "file,line,record,id,amount,reason,currency")
        #expect(rejects.dropFirst().first?.hasSuffix(",9.00,\"unknown type 'zap' (expected topup, charge or refund); an export's own type names are mapped by an import profile (--profile FILE) with transaction_types:, e.g. 'zap: charge'\",USD") == true, "\(rejects)")
        // --compare previous compares each currency with itself: a block per currency, a row per
        // client, service and currency in changes.csv.
        let out2 = temp.url.appendingPathComponent("out2")
        let february = try temp.file("feb.csv", CommandLineTests.transactionsHeader + "t0,2024-02-20T10:00:00+03:00,c1,charge,vm,3,USD,\n")
        let compared = try BalanceReportBinary.run(["render", "--period", "2024-03", "--compare", "previous", "--out", out2.path, file, february])
        #expect(compared.status == 0, "\(compared.stderr)")
        #expect(try String(contentsOf: out2.appendingPathComponent("default/changes.csv"), encoding: .utf8) == """
            client_id,service,previous_net,net,change,currency
            c2,vm,0.00,4.00,4.00,RUB
            c1,vm,3.00,2.00,-1.00,USD

            """)
        let comparedIndex = try String(contentsOf: out2.appendingPathComponent("default/index.html"), encoding: .utf8)
        #expect(comparedIndex.contains("Изменения с 01.02.2024 – 29.02.2024, RUB") && comparedIndex.contains("Изменения с 01.02.2024 – 29.02.2024, USD"))
        // --compare-with reads an earlier output of several currencies per currency too.
        let out3 = temp.url.appendingPathComponent("out3")
        let withOutput = try BalanceReportBinary.run(["render", "--period", "2024-04", "--compare-with", out.path, "--out", out3.path, file])
        #expect(withOutput.status == 0, "\(withOutput.stderr)")
        #expect(try String(contentsOf: out3.appendingPathComponent("default/changes.csv"), encoding: .utf8) == """
            client_id,service,previous_net,net,change,currency
            c2,vm,4.00,0.00,-4.00,RUB
            c1,vm,2.00,0.00,-2.00,USD

            """)
    }

    @Test("rows of lookalike client ids in two currencies are ordered by the ids' bytes, then the currency")
    func lookalikeIdsInTwoCurrencies() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        // "Ё" composed (D0 81) and "Е" + combining diaeresis (D0 95 CC 88): canonically equal, two accounts.
        let composed = "\u{0401}", decomposed = "\u{0415}\u{0308}"
        let file = try temp.file("t.csv", CommandLineTests.transactionsHeader
            + "t1,2024-03-02T10:00:00+03:00,\(decomposed),topup,,5,RUB,\n"
            + "t2,2024-03-02T11:00:00+03:00,\(composed),topup,,7,USD,\n")
        let out = temp.url.appendingPathComponent("out")
        let result = try BalanceReportBinary.run(["render", "--period", "2024-03", "--out", out.path, file])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try String(contentsOf: out.appendingPathComponent("default/snapshot.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(rows.map { Array($0.split(separator: ",", omittingEmptySubsequences: false)[0].utf8) } == [Array(composed.utf8), Array(decomposed.utf8)])
        #expect(rows.map { String($0.split(separator: ",", omittingEmptySubsequences: false).last!) } == ["USD", "RUB"])
    }

    @Test func validatePrintsTheSummaryAndWritesNothing() throws {
        let result = try BalanceReportBinary.run(["validate", "--period", "2024-03"] + Repository.sampleFiles)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("""
            records               transactions  amount, RUB  clients  events
              accepted                      50    53 033,92       10      26
              duplicate                      3     1 408,58        0       0
              rejected                       0         0,00        0       0
              outside period                15    55 580,71        0       0
              outside attachment             7     9 531,25        0       0
              unknown client                 2       742,42        0       0
              superseded                     0         0,00        0       0
            control totals, RUB        top-ups    charges   refunds
              accepted transactions  40 000,00  11 943,62  1 090,30
              the reports show exactly these
            """), "\(result.stderr)")

        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let bad = try temp.file("bad.csv", CommandLineTests.transactionsHeader + "t1,2024-03-02T10:00:00+03:00,c1,gift,,1,,\n")
        let failed = try BalanceReportBinary.run(["validate", bad])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("bad.csv:2: unknown type 'gift'"))
        #expect(fileTree(temp.url) == ["bad.csv"])
    }

    @Test func aMissingTemplateIsAClearErrorAndNothingIsWritten() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let templates = temp.url.appendingPathComponent("templates")
        try FileManager.default.copyItem(at: Repository.root.appendingPathComponent("Templates/ru"), to: templates)
        try FileManager.default.removeItem(at: templates.appendingPathComponent("daily.csv.mustache"))
        let out = temp.url.appendingPathComponent("out")
        let missing = try BalanceReportBinary.run(["render", "--period", "2024-03", "--templates", templates.path, "--out", out.path] + Repository.sampleFiles)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("daily.csv.mustache"))
        #expect(!FileManager.default.fileExists(atPath: out.path))

        _ = try temp.file("templates/daily.csv.mustache", "client_id\n{{#daily}}{{clientid}}\n{{/daily}}")
        let typo = try BalanceReportBinary.run(["render", "--period", "2024-03", "--templates", templates.path, "--out", out.path] + Repository.sampleFiles)
        #expect(typo.status == 1)
        #expect(typo.stderr.contains("daily.csv.mustache:2: unknown name 'clientid'"))
        #expect(!FileManager.default.fileExists(atPath: out.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.url.path).sorted() == ["templates"])
    }
}
