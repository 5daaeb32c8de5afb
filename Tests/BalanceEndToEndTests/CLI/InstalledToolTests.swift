import Foundation
import Glibc
import Testing
@testable import BalanceTestSupport

/// The tool as it is installed: a lone binary that works from any folder, its templates to export
/// and edit, `--version`, completions, the help man pages are made from, and the exit codes.
@Suite("Command line: the installed tool")
struct InstalledToolTests {
    /// A temporary folder holding a copy of the binary alone in `bin/` and of `sample-data/` in `work/`.
    static func installed() throws -> (temp: TemporaryFolder, binary: URL, work: URL) {
        let temp = try TemporaryFolder()
        let bin = temp.url.appendingPathComponent("bin")
        let work = temp.url.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let binary = bin.appendingPathComponent("balance-report")
        try copyExecutable(BalanceReportBinary.url, to: binary)
        try FileManager.default.copyItem(at: Repository.sampleData, to: work.appendingPathComponent("sample-data"))
        return (temp, binary, work)
    }

    /// Copies a program through a descriptor opened with O_CLOEXEC: a child that another test
    /// spawns meanwhile must not inherit it open for writing, or running the copy fails with
    /// ETXTBSY ("Text file busy") for as long as that child lives.
    static func copyExecutable(_ source: URL, to target: URL) throws {
        let bytes = [UInt8](try Data(contentsOf: source))
        let fd = open(target.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let done = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if done < 0 && errno == EINTR { continue }
            guard done > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            offset += done
        }
    }

    static func run(_ binary: URL, _ arguments: [String], in directory: URL) throws -> CommandResult {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }

    static func sameTree(_ a: URL, _ b: URL) throws -> Bool {
        let files = fileTree(a)
        guard files == fileTree(b), !files.isEmpty else { return false }
        return try files.allSatisfy { try Data(contentsOf: a.appendingPathComponent($0)) == Data(contentsOf: b.appendingPathComponent($0)) }
    }

    @Test("a copy of the binary alone, run in a folder without Templates/, renders what the repository's build renders", arguments: ["ru", "en"])
    func copiedBinaryRendersAnywhere(_ lang: String) throws {
        let (temp, binary, work) = try Self.installed()
        defer { temp.cleanup() }
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("Templates").path))
        let args = ["render", "--period", "2024-03", "--lang", lang, "--eml", "--quiet", "--out", "out"] + Repository.sampleFiles
        let copied = try Self.run(binary, args, in: work)
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("out/alfa-cloud/index.html").path))
        let reference = temp.url.appendingPathComponent("reference")
        let built = try BalanceReportBinary.run(["render", "--period", "2024-03", "--lang", lang, "--eml", "--quiet", "--out", reference.path] + Repository.sampleFiles)
        #expect(built.status == 0, "\(built.stderr)")
        #expect(try Self.sameTree(work.appendingPathComponent("out"), reference))
    }

    @Test("templates export writes editable copies, never over a file; --templates renders with the edits")
    func exportEditRender() throws {
        let (temp, binary, work) = try Self.installed()
        defer { temp.cleanup() }
        let exported = try Self.run(binary, ["templates", "export", "mine"], in: work)
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(exported.stderr.contains("wrote 12 templates (ru) to mine"))
        let mine = work.appendingPathComponent("mine")
        #expect(try FileManager.default.contentsOfDirectory(atPath: mine.path).sorted() == [
            "changes.csv.mustache", "client.csv.mustache", "client.html.mustache", "daily.csv.mustache", "email.txt.mustache", "index.html.mustache",
            "invoices.csv.mustache", "rejects.csv.mustache", "services.csv.mustache", "snapshot.csv.mustache", "snapshot.html.mustache", "unknown-clients.csv.mustache",
        ])
        #expect(try Data(contentsOf: mine.appendingPathComponent("index.html.mustache"))
                == Data(contentsOf: Repository.root.appendingPathComponent("Templates/ru/index.html.mustache")))

        // Again into the same folder: refused, nothing touched.
        let daily = mine.appendingPathComponent("daily.csv.mustache")
        var edited = try String(contentsOf: daily, encoding: .utf8)
        edited = edited.replacingOccurrences(of: "client_id,date,service,net", with: "клиент,день,сервис,итого")
        try Data(edited.utf8).write(to: daily)
        let again = try Self.run(binary, ["templates", "export", "mine", "--lang", "en"], in: work)
        #expect(again.status == 1)
        #expect(again.stderr.contains("balance-report: error: mine already holds index.html.mustache, "), "\(again.stderr)")
        #expect(again.stderr.contains("nothing written"))
        #expect(try String(contentsOf: daily, encoding: .utf8) == edited)
        #expect(try Data(contentsOf: mine.appendingPathComponent("index.html.mustache"))
                == Data(contentsOf: Repository.root.appendingPathComponent("Templates/ru/index.html.mustache")))

        let english = try Self.run(binary, ["templates", "export", "english", "--lang", "en"], in: work)
        #expect(english.status == 0)
        #expect(try Data(contentsOf: work.appendingPathComponent("english/client.html.mustache"))
                == Data(contentsOf: Repository.root.appendingPathComponent("Templates/en/client.html.mustache")))
        #expect(try Self.run(binary, ["templates", "export", "x", "--lang", "de"], in: work).status == 2)

        let rendered = try Self.run(binary, ["render", "--period", "2024-03", "--quiet", "--templates", "mine", "--out", "out"] + Repository.sampleFiles, in: work)
        #expect(rendered.status == 0, "\(rendered.stderr)")
        let csv = try String(contentsOf: work.appendingPathComponent("out/alfa-cloud/daily.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("клиент,день,сервис,итого\n"), "\(csv.prefix(80))")
    }

    @Test("a template set with a misspelt file or name fails before reading the exports, naming the file and the name")
    func brokenSetIsNamed() throws {
        let (temp, binary, work) = try Self.installed()
        defer { temp.cleanup() }
        #expect(try Self.run(binary, ["templates", "export", "t"], in: work).status == 0)
        let t = work.appendingPathComponent("t")
        try FileManager.default.moveItem(at: t.appendingPathComponent("snapshot.html.mustache"), to: t.appendingPathComponent("snapshots.html.mustache"))
        let renamed = try Self.run(binary, ["render", "--period", "2024-03", "--templates", "t", "--out", "out", "sample-data/clients.csv"], in: work)
        #expect(renamed.status == 1)
        #expect(renamed.stderr.contains("balance-report: error: --templates: t/snapshots.html.mustache: not a template balance-report uses"), "\(renamed.stderr)")
        #expect(renamed.stderr.contains("balance-report: error: --templates: t: missing snapshot.html.mustache"), "\(renamed.stderr)")
        #expect(!renamed.stderr.contains("records"), "the exports were not read")
        try FileManager.default.moveItem(at: t.appendingPathComponent("snapshots.html.mustache"), to: t.appendingPathComponent("snapshot.html.mustache"))
        let client = t.appendingPathComponent("client.html.mustache")
        try Data(try String(contentsOf: client, encoding: .utf8).replacingOccurrences(of: "{{client_id}}", with: "{{clientid}}").utf8).write(to: client)
        let misspelt = try Self.run(binary, ["render", "--period", "2024-03", "--templates", "t", "--out", "out"] + Repository.sampleFiles, in: work)
        #expect(misspelt.status == 1)
        #expect(misspelt.stderr.contains("--templates: t/client.html.mustache:"), "\(misspelt.stderr)")
        #expect(misspelt.stderr.contains(": unknown name 'clientid' (client.html.mustache can use: "), "\(misspelt.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("out").path))
    }

    @Test("--version prints the version written once, in Sources/balance-report/Version.swift")
    func version() throws {
        let source = try String(contentsOf: Repository.root.appendingPathComponent("Sources/balance-report/Version.swift"), encoding: .utf8)
        let declared = try #require(source.split(separator: "\"").dropFirst().first.map(String.init))
        #expect(declared.split(separator: ".").count == 3 && declared.split(separator: ".").allSatisfy { Int($0) != nil }, "\(declared)")
        let result = try BalanceReportBinary.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout == declared + "\n")
    }

    @Test("shell completions name every subcommand and option; the bash script is valid bash")
    func completions() throws {
        for shell in ["bash", "zsh", "fish"] {
            let result = try BalanceReportBinary.run(["--generate-completion-script", shell])
            #expect(result.status == 0, "\(shell): \(result.stderr)")
            for word in ["render", "validate", "templates", "export", "excel-ru", "cp1251"] {
                #expect(result.stdout.contains(word), "\(shell) completion lacks \(word)")
            }
            for option in ["period", "templates", "csv-dialect", "allow-rejects"] {
                // fish names a long option without its dashes.
                #expect(result.stdout.contains(shell == "fish" ? "-l '\(option)'" : "--\(option)"), "\(shell) completion lacks --\(option)")
            }
        }
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let script = try temp.file("balance-report.bash", try BalanceReportBinary.run(["--generate-completion-script", "bash"]).stdout)
        let bash = Process()
        bash.executableURL = URL(fileURLWithPath: "/bin/bash")
        bash.arguments = ["-n", script]
        try bash.run()
        bash.waitUntilExit()
        #expect(bash.terminationStatus == 0)
    }

    @Test("the help the man page is generated from (GenerateManual reads --experimental-dump-help) describes every command")
    func dumpHelp() throws {
        let result = try BalanceReportBinary.run(["--experimental-dump-help"])
        #expect(result.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let command = try #require(json["command"] as? [String: Any])
        #expect(command["commandName"] as? String == "balance-report")
        let subcommands = (command["subcommands"] as? [[String: Any]] ?? []).compactMap { $0["commandName"] as? String }
        #expect(["render", "validate", "templates"].allSatisfy(subcommands.contains), "\(subcommands)")
        #expect((command["discussion"] as? String)?.contains("Exit codes") == true)
    }

    @Test("a mistyped subcommand is named as one (not 'Unknown option'), with the nearest name", arguments: [
        (["rendr", "--period", "2024-03", "--out", "out", "x.csv"], "unknown subcommand 'rendr' of balance-report (did you mean 'render'?); the subcommands are render, validate, templates"),
        (["valdate", "x.csv"], "unknown subcommand 'valdate' of balance-report (did you mean 'validate'?)"),
        (["templates", "exprt", "dir"], "unknown subcommand 'exprt' of balance-report templates (did you mean 'export'?)"),
        (["report", "x.csv"], "unknown subcommand 'report' of balance-report; the subcommands are"),
    ])
    func mistypedSubcommand(_ arguments: [String], _ message: String) throws {
        let result = try BalanceReportBinary.run(arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains("balance-report: error: " + message), "\(result.stderr)")
        #expect(!result.stderr.contains("Unknown option"))
    }

    @Test("a mistyped subcommand's control characters are escaped, never sent to the terminal")
    func mistypedSubcommandIsEscaped() throws {
        let result = try BalanceReportBinary.run(["ren\u{1B}[2Jder"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("unknown subcommand 'ren\\u{1B}[2Jder'"), "\(result.stderr)")
        #expect(!result.stderr.contains("\u{1B}"))
    }

    @Test("help still works, and render's help says a period is required")
    func help() throws {
        let render = try BalanceReportBinary.run(["render", "--help"])
        #expect(render.status == 0)
        #expect(render.stdout.contains("USAGE: balance-report render (--period <period> | --from <day> --to <day>) --out <out> [<options>] <files> ..."), "\(render.stdout)")
        #expect(render.stdout.contains("A period is required: --period, or --from and --to."))
        #expect(try BalanceReportBinary.run(["help", "render"]).stdout.contains("A period is required"))
        let templates = try BalanceReportBinary.run(["templates"])
        #expect(templates.status == 2)
        #expect(templates.stderr.contains("\nUSAGE: balance-report templates <subcommand>\n"), "\(templates.stderr)")
    }

    @Test("every kind of missing file exits 1 naming the file, and nothing is written", arguments: [
        ("--profile", "missing.yaml"), ("--contacts", "missing.csv"), ("--templates", "missing-folder"),
    ])
    func missingFiles(_ option: String, _ name: String) throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let missing = temp.url.appendingPathComponent(name).path
        let out = temp.url.appendingPathComponent("out").path
        let extra = option == "--contacts" ? ["--eml", option, missing] : [option, missing]
        let result = try BalanceReportBinary.run(["render", "--period", "2024-03", "--out", out] + extra + Repository.sampleFiles)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("balance-report: error: \(option): \(missing): cannot open: No such file or directory"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.url.path).isEmpty)
        if option == "--profile" {
            let validate = try BalanceReportBinary.run(["validate", option, missing] + Repository.sampleFiles)
            #expect(validate.status == 1)
            #expect(validate.stderr.contains("\(option): \(missing): cannot open"))
        }
    }

    @Test("validate with nothing readable prints no made-up 1970 period")
    func validateNothingReadable() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let missing = try BalanceReportBinary.run(["validate", temp.url.appendingPathComponent("nope.csv").path])
        #expect(missing.status == 1)
        #expect(!missing.stderr.contains("1970"), "\(missing.stderr)")
        // Every transaction rejected, or no transactions file at all: the summary names no period.
        let rejected = try temp.file("t.csv", CommandLineTests.transactionsHeader + "t1,garbage,c1,topup,,10,,\n")
        let clients = try temp.file("clients.csv", "client_id,name,email\nc1,One,one@example.com\n")
        for files in [[rejected], [clients]] {
            let result = try BalanceReportBinary.run(["validate"] + files)
            #expect(!result.stderr.contains("1970"), "\(result.stderr)")
            #expect(result.stderr.hasPrefix("period: none (no transaction was read)\n"), "\(result.stderr)")
        }
    }

    @Test("a timestamp without seconds is refused with the accepted forms")
    func timestampWithoutSeconds() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let file = try temp.file("t.csv", CommandLineTests.transactionsHeader + "t1,2024-03-05 10:00,c1,topup,,10,,\n")
        let result = try BalanceReportBinary.run(["validate", file])
        #expect(result.status == 1)
        #expect(result.stderr.contains("t.csv:2: timestamp has no seconds (accepted: 2024-03-05T10:00:00+03:00, 2024-03-05 10:00:00, 05.03.2024 10:00:00, Unix seconds;"), "\(result.stderr)")
    }
}
