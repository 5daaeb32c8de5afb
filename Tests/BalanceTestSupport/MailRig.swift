import Foundation
import Glibc
import Testing

/// A real SMTP server for a test: `Tests/scripts/smtp_server.py` (Python's aiosmtpd) on a free port
/// of 127.0.0.1, writing every message it accepts into a spool folder. Ends with `stop()`, or when
/// the test process ends (it stops when its stdin closes).
final class SMTPServer {
    let port: Int
    let spool: URL
    private let process: Process
    private let input: Pipe

    struct Received {
        var recipients: [String]
        var bytes: Data
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    init(in folder: URL, refusing refused: [String] = []) throws {
        spool = folder.appendingPathComponent("spool-" + UUID().uuidString.prefix(8))
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Repository.root.appendingPathComponent("Tests/scripts/smtp_server.py").path, spool.path]
            + refused.flatMap { ["--refuse", $0] }
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("port "), let number = Int(text.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw POSIXError(.ECONNREFUSED)   // no server (is aiosmtpd installed? `.ci/run` installs it)
        }
        port = number
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// Every message received so far, in order.
    func received() throws -> [Received] {
        let names = try FileManager.default.contentsOfDirectory(atPath: spool.path).filter { $0.hasSuffix(".eml") }.sorted()
        return try names.map { name in
            let base = spool.appendingPathComponent(String(name.dropLast(4)))
            let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: base.appendingPathExtension("json"))) as? [String: Any]
            return Received(recipients: meta?["rcpt_tos"] as? [String] ?? [], bytes: try Data(contentsOf: base.appendingPathExtension("eml")))
        }
    }

    /// Forgets what was received.
    func clear() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: spool.path) {
            try FileManager.default.removeItem(at: spool.appendingPathComponent(name))
        }
    }

    /// An msmtp configuration for this server (Debian's msmtp as the sendmail client), and the
    /// `--sendmail` command that uses it.
    func msmtpConfig(in folder: URL) throws -> (path: String, command: String) {
        let path = folder.appendingPathComponent("msmtprc-\(port)").path
        let config = """
            defaults
            auth off
            tls off
            timeout 20

            account test
            host 127.0.0.1
            port \(port)
            from billing@cloud.example

            account default : test

            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        return (path, "msmtp -C \(path) -t")
    }
}

/// msmtp processes still running with `config` (ones a killed `send` left behind).
func msmtpProcesses(using config: String) -> [Int32] {
    let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
    return pids.filter { pid in
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return arguments.contains(config) && arguments.contains { $0.hasSuffix("msmtp") }
    }
}

/// Waits (up to `seconds`) until no msmtp with `config` runs; whether that happened.
@discardableResult
func waitForMsmtp(using config: String, seconds: Double = 20) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !msmtpProcesses(using: config).isEmpty {
        if Date() > deadline { return false }
        usleep(20_000)
    }
    return true
}

enum SendFixture {
    static let from = "Billing <billing@cloud.example>"
    static let date = "2024-04-01T09:00:00+03:00"
    static func address(_ partner: String) -> String { "\(partner)@partners.example" }

    /// An export of `partners` partners (`p01`, `p02`, …, two clients each, March 2024) and a
    /// contacts file giving each one `pNN@partners.example`, except `withoutContact` (none) and
    /// `contactOverrides` (another address).
    static func writeExport(in folder: URL, partners: Int, withoutContact: [String] = [],
                            contactOverrides: [String: String] = [:]) throws -> (files: [String], contacts: String, names: [String]) {
        let names = (1...partners).map { $0 < 10 ? "p0\($0)" : "p\($0)" }
        var clients = "client_id,name,email,partner_id\n"
        var transactions = "id,timestamp,client_id,type,service,amount\n"
        var contacts = "partner_id,email,name\n"
        for (index, partner) in names.enumerated() {
            for client in 1...2 {
                let id = "c-\(partner)-\(client)"
                clients += "\(id),Client \(client) of \(partner),\(id)@clients.example,\(partner)\n"
                transactions += "t-\(id)-1,2024-03-0\(client)T10:00:00+03:00,\(id),topup,,\(1000 * (index + 1))\n"
                transactions += "t-\(id)-2,2024-03-1\(client)T12:00:00+03:00,\(id),charge,Compute Cloud,\(123 + index).45\n"
            }
            if !withoutContact.contains(partner) {
                contacts += "\(partner),\(contactOverrides[partner] ?? address(partner)),Finance of \(partner)\n"
            }
        }
        func write(_ name: String, _ text: String) throws -> String {
            let path = folder.appendingPathComponent(name).path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        return ([try write("clients.csv", clients), try write("transactions.csv", transactions)], try write("contacts.csv", contacts), names)
    }

    /// `render --eml` of the export into `out`: messages ready to send, and the marker of a
    /// complete render.
    static func render(_ out: URL, files: [String], contacts: String, extra: [String] = ["--eml-from", from, "--eml-date", date]) throws {
        let result = try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--out", out.path, "--eml", "--contacts", contacts]
                                                 + extra + files)
        try #require(result.status == 0, "render failed: \(result.stderr)")
        try requireMarker(out)
    }

    static func requireMarker(_ out: URL) throws {
        let marker = try String(contentsOf: out.appendingPathComponent(".balance-report-output"), encoding: .utf8)
        try #require(marker.hasPrefix("balance-report output 1\n"), "render wrote no marker")
    }

    static func log(_ out: URL) -> String {
        (try? String(contentsOf: out.appendingPathComponent(".balance-report-sent.log"), encoding: .utf8)) ?? ""
    }
}
