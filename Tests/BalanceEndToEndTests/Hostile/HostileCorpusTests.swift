import Foundation
import Testing
@testable import BalanceTestSupport

/// Issue 4, the hostile corpus through the binary: each bad export in
/// `Fixtures/hostile/csv/` and `Fixtures/hostile/*.xml` gives its exact `file:line: reason`,
/// exit code 1, and nothing at all in the folder the run would have written to (no `--out`, no
/// staging folder) — within bounded time and memory. The reader-level tests of the same files
/// are in `Ingest/`; these prove the whole tool refuses them.
@Suite("Hostile corpus through the binary")
struct HostileCorpusTests {
    static var templates: String { Repository.root.appendingPathComponent("Templates/ru").path }

    struct Case: Sendable, CustomTestStringConvertible {
        var files: [String]
        /// Every one of these lines must be on stderr (`file:line: reason`).
        var expected: [String]
        var extra: [String] = []
        var testDescription: String { files.joined(separator: " ") }
    }

    static let csvCases: [Case] = [
        Case(files: ["invalid-utf8.csv"], expected: ["invalid-utf8.csv:3: description is not valid UTF-8, and the file reads as Windows-1251: declare its encoding (--encoding cp1251, or encoding: cp1251 in the import profile) and run again"]),
        Case(files: ["nul-byte.csv"], expected: ["nul-byte.csv:2: NUL byte in field"]),
        Case(files: ["ragged.csv"], expected: ["ragged.csv:3: expected 8 fields, found 5"]),
        Case(files: ["unterminated-quote.csv"], expected: ["unterminated-quote.csv:3: unterminated quoted field (the rest of the file cannot be read)"]),
        Case(files: ["stray-quote.csv"], expected: ["stray-quote.csv:3: stray quote in an unquoted field"]),
        Case(files: ["empty.csv"], expected: ["empty.csv: the file is empty: no header, so it is not an export"]),
        Case(files: ["unknown-type.csv"], expected: ["unknown-type.csv:3: unknown type 'payment' (expected topup, charge or refund); an export's own type names are mapped by an import profile (--profile FILE) with transaction_types:, e.g. 'payment: charge'"]),
        Case(files: ["impossible-dates.csv"], expected: [
            "impossible-dates.csv:3: timestamp has an impossible date",
            "impossible-dates.csv:4: timestamp has an impossible time of day",
            "impossible-dates.csv:5: timestamp has an impossible date",
        ]),
        Case(files: ["conflicting-duplicates.csv"], expected: [
            "conflicting-duplicates.csv:2: transaction id t1 conflicts with conflicting-duplicates.csv:3",
            "conflicting-duplicates.csv:3: transaction id t1 conflicts with conflicting-duplicates.csv:2 (different amount 100.00 vs 100.01)",
        ]),
        Case(files: ["huge-amount.csv"], expected: ["huge-amount.csv:3: amount is too large", "huge-amount.csv:4: amount is too large"]),
        Case(files: ["ambiguous-amounts.csv"], expected: [
            "ambiguous-amounts.csv:3: amount has a second decimal mark or a '.'/',' digit group (only spaces group digits)",
            "ambiguous-amounts.csv:4: amount is not a number (no exponents: write the digits out)",
            "ambiguous-amounts.csv:5: amount is not a number",
            "ambiguous-amounts.csv:6: amount has more than 12 fractional digits",
            "ambiguous-amounts.csv:7: amount must be positive",
            "ambiguous-amounts.csv:8: amount has a decimal comma, but the decimal mark here is '.'",
        ]),
        Case(files: ["unknown-event-clients.csv", "unknown-event-events.csv"], expected: [
            "unknown-event-events.csv:3: unknown event type 'suspended' (expected invited, confirmed, blocked, unblocked or removed); an export's own event names are mapped by an import profile (--profile FILE) with event_types:",
        ]),
        Case(files: ["transitions-clients.csv", "transitions-events.csv"], expected: [
            "transitions-events.csv:3: illegal transition: blocked while invited (client c1)",
            "transitions-events.csv:4: illegal transition: confirmed while not yet invited (client c2)",
        ]),
        // Windows-1251 without a declaration: refused with the fix, never read as mojibake.
        Case(files: ["cp1251-undeclared.csv"], expected: [
            "cp1251-undeclared.csv:1: the header is not valid UTF-8 (a Windows-1251 export? declare it: --encoding cp1251, or encoding: in the profile)",
        ]),
        // Declared, but with a byte Windows-1251 does not define: the file is refused at that line
        // (line 5: the quoted field before it spans lines 3-4).
        Case(files: ["cp1251-undefined-byte.csv"], expected: [
            "cp1251-undefined-byte.csv:5: the file is neither UTF-8 nor Windows-1251: byte 0x98 is not a Windows-1251 character",
        ], extra: ["--encoding", "cp1251"]),
    ]

    @Test("the CSV corpus is complete")
    func corpusComplete() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: try IngestFixtures.root.appendingPathComponent("hostile/csv").path)
        #expect(names.sorted() == Set(Self.csvCases.flatMap(\.files)).sorted())
    }

    /// Copies the fixtures into a fresh folder, renders into it, and checks the run was refused
    /// with exactly the expected lines and left the folder as it was.
    static func refuse(_ files: [String], fixtureFolder: String, expected: [String], extra: [String] = [],
                       check: (SpawnedProcess.Result) -> Void = { _ in }) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        for file in files {
            try FileManager.default.copyItem(atPath: try IngestFixtures.path(fixtureFolder + file), toPath: temp.url.appendingPathComponent(file).path)
        }
        let before = allEntries(temp.url)
        let result = try SpawnedProcess.run(["render", "--period", "2024-03", "--templates", templates, "--out", "out"] + extra + files, in: temp.url)
        #expect(result.status == 1, "\(result.stderr)")
        // A file refused as a whole is an error line of its own (`balance-report: error: file:line: reason`).
        let lines = Set(result.stderr.split(separator: "\n").map { line in
            line.hasPrefix("balance-report: error: ") ? String(line.dropFirst("balance-report: error: ".count)) : String(line)
        })
        for line in expected {
            #expect(lines.contains(line), "missing on stderr: \(line)\n\(result.stderr)")
        }
        #expect(result.stderr.contains("no report written") || result.stderr.contains("error:"), "\(result.stderr)")
        #expect(allEntries(temp.url) == before, "the run wrote something")
        #expect(result.maxRSSKiB < 100 * 1024, "peak RSS \(result.maxRSSKiB) KiB")
        #expect(result.cpuSeconds < 2, "CPU \(result.cpuSeconds) s")
        check(result)
    }

    @Test("each bad CSV export is refused with its file:line reason and nothing is written", arguments: csvCases)
    func csvRefused(_ sample: Case) throws {
        try Self.refuse(sample.files, fixtureFolder: "hostile/csv/", expected: sample.expected, extra: sample.extra)
    }

    @Test("each hostile XML document is refused by the binary: nothing written, < 1 s CPU, < 100 MB", arguments: HostileXML.corpus)
    func xmlRefused(_ sample: HostileXML.Sample) throws {
        let hostname = (try? String(contentsOfFile: "/etc/hostname", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        try Self.refuse([sample.file], fixtureFolder: "hostile/", expected: []) { result in
            // Refused as a whole (an error line), or rejected with each record it held.
            let reasonLine = result.stderr.split(separator: "\n").first {
                $0.hasPrefix("balance-report: error: " + sample.file + ":") || $0.hasPrefix(sample.file + ":")
            }
            #expect(reasonLine != nil, "no \(sample.file):line: reason on stderr: \(result.stderr)")
            #expect(sample.reasons.contains { reasonLine?.contains($0) == true }, "\(String(describing: reasonLine))")
            #expect(result.cpuSeconds < 1, "CPU \(result.cpuSeconds) s")
            if sample.file == "xxe-file.xml" && hostname.count >= 4 {
                #expect(!result.stderr.contains(hostname) && !result.stdout.contains(hostname))
            }
        }
    }

    /// HOSTILE-CHECKLIST #7: an external DTD or parameter entity makes no network connection.
    @Test("an external DTD or parameter entity opens no socket (strace)", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace")),
          arguments: ["external-dtd.xml", "parameter-entity.xml", "xxe-file.xml"])
    func noSocket(_ file: String) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let log = temp.url.appendingPathComponent("strace.log").path
        let input = try IngestFixtures.path("hostile/" + file)
        let result = try SpawnedProcess(executable: "/usr/bin/strace",
                                        ["-f", "-qq", "-e", "trace=socket,connect", "-o", log, BalanceReportBinary.url.path, "validate", input]).wait()
        #expect(result.status == 1, "\(result.stderr)")
        let calls = try String(contentsOfFile: log, encoding: .utf8)
        #expect(!calls.contains("AF_INET"), "\(calls)")
        #expect(!calls.contains("connect("), "\(calls)")
    }

    /// Found by fuzzing: timestamps whose Moscow date falls outside years 1…9999 were accepted and
    /// then crashed `validate` (no period given: the span of the data cannot be a real period).
    @Test("timestamps outside Moscow years 1–9999 are rejected, never a crash", arguments: [
        "-122222222021", "253402300799", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+05:00",
    ])
    func outOfRangeTimestamps(_ timestamp: String) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        _ = try temp.file("t.csv", "id,timestamp,client_id,type,service,amount\nt1,\(timestamp),c1,topup,,5\nt2,2024-03-02 10:00:00,c1,topup,,1\n")
        let result = try SpawnedProcess.run(["validate", "t.csv"], in: temp.url)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("t.csv:2: timestamp is out of range (Moscow dates 0001-01-01 to 9999-12-31)"), "\(result.stderr)")
    }

    /// A 50 MB single field: a clean error at its line, with memory bounded by the 8 MiB record cap
    /// (not by the field), in UTF-8 and through the Windows-1251 transcoder alike.
    @Test("a 50 MB single CSV field is a clean error in bounded time and memory", arguments: [false, true])
    func fiftyMegabyteField(windows1251: Bool) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let path = temp.url.appendingPathComponent("big.csv").path
        guard let file = FileHandle(forWritingAtPath: { FileManager.default.createFile(atPath: path, contents: nil); return path }()) else {
            Issue.record("cannot create \(path)")
            return
        }
        var head = Array("id,timestamp,client_id,type,service,amount,currency,description\nt1,2024-03-02T10:00:00+03:00,c1,topup,,1,,\nt2,2024-03-02T10:00:00+03:00,c1,topup,,1,,\"".utf8)
        if windows1251 { head += [0xCF, 0xEE] }  // "По" in Windows-1251, so the file is not UTF-8
        file.write(Data(head))
        let block = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        for _ in 0..<50 { file.write(block) }
        file.write(Data("\"\n".utf8))
        try file.close()
        let before = allEntries(temp.url)
        let result = try SpawnedProcess.run(["render", "--period", "2024-03", "--templates", Self.templates, "--out", "out",
                                             "--encoding", windows1251 ? "cp1251" : "utf-8", "big.csv"], in: temp.url)
        #expect(result.status == 1)
        #expect(result.stderr.contains("big.csv:3: record is longer than 8 MiB"), "\(result.stderr)")
        #expect(allEntries(temp.url) == before)
        #expect(result.maxRSSKiB < 100 * 1024, "peak RSS \(result.maxRSSKiB) KiB")
        #expect(result.wallSeconds < 20, "took \(result.wallSeconds) s")
    }
}
