import Foundation
import Glibc
import Testing
@testable import BalanceTestSupport

/// `balance-report send` against real components: Python's aiosmtpd as the SMTP server on
/// 127.0.0.1 and Debian's msmtp as the sendmail client in front of it.
@Suite("send: delivery through msmtp to a real SMTP server", .serialized)
struct SendDeliveryTests {
    /// A rendered output of `partners` partners, a server and an msmtp config for it.
    struct Rig {
        let temp: TemporaryFolder
        let out: URL
        let server: SMTPServer
        let config: String
        let sendmail: String
        let names: [String]
        let export: (files: [String], contacts: String, names: [String])

        init(partners: Int = 3, withoutContact: [String] = [], refusing: [String] = [],
             contactOverrides: [String: String] = [:], renderExtra: [String]? = nil) throws {
            temp = try TemporaryFolder()
            out = temp.url.appendingPathComponent("out")
            export = try SendFixture.writeExport(in: temp.url, partners: partners, withoutContact: withoutContact, contactOverrides: contactOverrides)
            names = export.names
            if let renderExtra {
                try SendFixture.render(out, files: export.files, contacts: export.contacts, extra: renderExtra)
            } else {
                try SendFixture.render(out, files: export.files, contacts: export.contacts)
            }
            server = try SMTPServer(in: temp.url, refusing: refusing)
            (config, sendmail) = try server.msmtpConfig(in: temp.url)
        }

        func send(_ arguments: [String] = [], folder: URL? = nil, sendmail command: String? = nil) throws -> CommandResult {
            try BalanceReportBinary.run(["send", (folder ?? out).path, "--sendmail", command ?? sendmail] + arguments)
        }

        func message(_ partner: String, in folder: URL? = nil) throws -> Data {
            try Data(contentsOf: (folder ?? out).appendingPathComponent("\(partner)/report.eml"))
        }

        func cleanup() {
            server.stop()
            temp.cleanup()
        }
    }

    @Test func eachPartnerGetsItsOwnReportOnceByteForByte() throws {
        let rig = try Rig(partners: 4, withoutContact: ["p04"])
        defer { rig.cleanup() }
        let first = try rig.send()
        // p04 has no recipient: reported, skipped, and the run says so with exit 1.
        #expect(first.status == 1, "\(first.stderr)")
        #expect(first.stderr.contains("p04: skipped: report.eml has no To: recipient"), "\(first.stderr)")
        #expect(first.stderr.contains("send: 3 sent, 0 already sent, 1 skipped, 0 failed, 0 uncertain"), "\(first.stderr)")
        #expect(first.stderr.contains("not sent: p04 (skipped)"), "\(first.stderr)")
        for partner in ["p01", "p02", "p03"] {
            #expect(first.stderr.contains("sent \(partner) to \(SendFixture.address(partner))"), "\(first.stderr)")
        }

        let received = try rig.server.received()
        #expect(received.count == 3)
        for partner in ["p01", "p02", "p03"] {
            let mine = received.filter { $0.recipients == [SendFixture.address(partner)] }
            #expect(mine.count == 1, "\(partner): \(mine.count) messages")
            // What the server got is report.eml exactly: msmtp added nothing, the CRLF survived.
            #expect(mine.first?.bytes == (try rig.message(partner)), "\(partner): the server got other bytes")
            #expect(mine.first?.text.contains("\r\nTo: Finance of \(partner) <\(SendFixture.address(partner))>\r\n") == true)
        }

        let log = SendFixture.log(rig.out).split(separator: "\n")
        #expect(log.count == 6, "\(log)")
        #expect(log.filter { $0.hasPrefix("start ") }.count == 3 && log.filter { $0.hasPrefix("sent ") }.count == 3)
        #expect(!log.contains { $0.contains("p04") })

        // A second run sends nothing already sent.
        let second = try rig.send()
        #expect(second.status == 1)
        #expect(second.stderr.contains("send: 0 sent, 3 already sent, 1 skipped, 0 failed, 0 uncertain"), "\(second.stderr)")
        #expect(try rig.server.received().count == 3)
        // Everything selected was sent: exit 0.
        let selected = try rig.send(["--only", "p01,p02", "--only", "p03"])
        #expect(selected.status == 0, "\(selected.stderr)")
        #expect(selected.stderr.contains("send: 0 sent, 3 already sent, 0 skipped"), "\(selected.stderr)")
        #expect(SendFixture.log(rig.out).split(separator: "\n").count == 6, "an already-sent message was logged again")
    }

    @Test func aServerRefusingOneRecipientFailsThatPartnerAndTheRestGoOn() throws {
        let rig = try Rig(partners: 3, refusing: [SendFixture.address("p02")])
        defer { rig.cleanup() }
        let run = try rig.send()
        #expect(run.status == 1)
        #expect(run.stderr.contains("p02: failed: msmtp exited with status"), "\(run.stderr)")
        // The server's own words reach the report and the log.
        #expect(run.stderr.contains("550 5.1.1 <p02@partners.example>: Recipient address rejected"), "\(run.stderr)")
        #expect(run.stderr.contains("send: 2 sent, 0 already sent, 0 skipped, 1 failed, 0 uncertain"), "\(run.stderr)")
        #expect(run.stderr.contains("not sent: p02 (failed)"), "\(run.stderr)")
        let received = try rig.server.received()
        #expect(received.map(\.recipients).sorted { $0[0] < $1[0] } == [[SendFixture.address("p01")], [SendFixture.address("p03")]])
        let failed = SendFixture.log(rig.out).split(separator: "\n").filter { $0.hasPrefix("failed p02 ") }
        #expect(failed.count == 1 && failed[0].contains("550 5.1.1"), "\(SendFixture.log(rig.out))")

        // A failure delivered nothing, so the next run tries it again (and only it).
        let again = try rig.send()
        #expect(again.stderr.contains("send: 0 sent, 2 already sent, 0 skipped, 1 failed"), "\(again.stderr)")
        let fixed = try SMTPServer(in: rig.temp.url)
        defer { fixed.stop() }
        let (_, command) = try fixed.msmtpConfig(in: rig.temp.url)
        let last = try rig.send(sendmail: command)
        #expect(last.status == 0, "\(last.stderr)")
        #expect(try fixed.received().map(\.recipients) == [[SendFixture.address("p02")]])
        #expect(try fixed.received().first?.bytes == (try rig.message("p02")))
    }

    @Test func dryRunListsRecipientsSubjectSizeAndAttachmentsAndSendsNothing() throws {
        let rig = try Rig(partners: 3, withoutContact: ["p03"], contactOverrides: ["p02": "a@x.example"])
        defer { rig.cleanup() }
        let run = try rig.send(["--dry-run"])
        #expect(run.status == 0, "\(run.stderr)")
        let size = try rig.message("p01").count
        // Plain digits: no English grouping in a Russian run (issue 20).
        let grouped = "\(size)"
        #expect(run.stdout.contains("p01: would send to p01@partners.example\n"), "\(run.stdout)")
        #expect(run.stdout.contains("p02: would send to a@x.example\n"), "\(run.stdout)")
        #expect(run.stdout.contains("    subject: Отчёт по клиентам партнёра p01 за 01.03.2024 – 31.03.2024\n"), "\(run.stdout)")
        #expect(run.stdout.contains("    size: \(grouped) bytes; attachments: snapshot_2024-03-01_2024-03-31.xlsx, services_2024-03-01_2024-03-31.xlsx, daily_2024-03-01_2024-03-31.xlsx\n"),
                "\(run.stdout)")
        #expect(run.stdout.contains("p03: would skip: report.eml has no To: recipient"), "\(run.stdout)")
        #expect(run.stdout.hasSuffix("dry run: 2 of 3 would be sent; nothing was sent\n"), "\(run.stdout)")
        #expect(try rig.server.received().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: rig.out.appendingPathComponent(".balance-report-sent.log").path),
                "a dry run wrote the log")

        let only = try rig.send(["--dry-run", "--only", "p02"])
        #expect(only.stdout.contains("p02: would send") && !only.stdout.contains("p01") && !only.stdout.contains("p03"), "\(only.stdout)")
        // After a real run the dry run knows what was sent.
        _ = try rig.send(["--only", "p01"])
        let after = try rig.send(["--dry-run"])
        #expect(after.stdout.contains("p01: already sent (<20240301-20240331."), "\(after.stdout)")
        #expect(try rig.server.received().count == 1)
    }

    @Test func aReRenderedReportIsNotSentAgainUnlessResent_nextMonthIs() throws {
        let rig = try Rig(partners: 2)
        defer { rig.cleanup() }
        #expect(try rig.send().status == 0)
        let first = try rig.message("p01")
        // Rendered again into the same folder with another date: other bytes, another Message-ID,
        // the same report. render keeps the sent log.
        try SendFixture.render(rig.out, files: rig.export.files, contacts: rig.export.contacts,
                               extra: ["--eml-from", SendFixture.from, "--eml-date", "2024-04-02T09:00:00+03:00"])
        #expect(try rig.message("p01") != first)
        #expect(SendFixture.log(rig.out).split(separator: "\n").filter { $0.hasPrefix("sent ") }.count == 2)
        let blocked = try rig.send()
        #expect(blocked.status == 1)
        #expect(blocked.stderr.contains("p01: skipped: report.eml changed after <20240301-20240331."), "\(blocked.stderr)")
        #expect(blocked.stderr.contains("--resend p01 sends the new one"), "\(blocked.stderr)")
        #expect(try rig.server.received().count == 2)

        let resent = try rig.send(["--resend", "p01"])
        #expect(resent.stderr.contains("sent p01 again to p01@partners.example"), "\(resent.stderr)")
        #expect(resent.stderr.contains("p02: skipped: report.eml changed"), "\(resent.stderr)")
        let received = try rig.server.received()
        #expect(received.count == 3)
        #expect(received.last?.bytes == (try rig.message("p01")))

        // The next month in the same folder is a new report, not a changed one.
        let result = try BalanceReportBinary.run(["render", "--period", "2024-04", "--quiet", "--out", rig.out.path, "--eml", "--contacts", rig.export.contacts,
                                                  "--eml-from", SendFixture.from, "--eml-date", "2024-05-01T09:00:00+03:00"] + rig.export.files)
        try #require(result.status == 0, "\(result.stderr)")
        let next = try rig.send()
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stderr.contains("send: 2 sent, 0 already sent"), "\(next.stderr)")
        #expect(try rig.server.received().count == 5)
        #expect(try rig.send().stderr.contains("send: 0 sent, 2 already sent"))
    }

    @Test func aMessageInFlightWhenARunDiedIsUncertainAndOnlyResentWhenAsked() throws {
        let rig = try Rig(partners: 2)
        defer { rig.cleanup() }
        // The log of a run killed after it started p01: a `start` without an outcome.
        let message = try rig.message("p01")
        let text = String(decoding: message, as: UTF8.self)
        let id = try #require(text.firstMatch(of: try Regex(#"Message-ID: (<[^>]+>)"#))?.output[1].substring.map(String.init))
        let sha = try sha256sum(rig.out.appendingPathComponent("p01/report.eml").path)
        try Data("start p01 \(id) \(sha)\n".utf8).write(to: rig.out.appendingPathComponent(".balance-report-sent.log"))

        let run = try rig.send()
        #expect(run.status == 1)
        #expect(run.stderr.contains("p01: uncertain: the delivery of \(id) started in an earlier run that did not finish"), "\(run.stderr)")
        #expect(run.stderr.contains("send: 1 sent, 0 already sent, 0 skipped, 0 failed, 1 uncertain"), "\(run.stderr)")
        #expect(run.stderr.contains("not sent: p01 (uncertain)"), "\(run.stderr)")
        #expect(try rig.server.received().map(\.recipients) == [[SendFixture.address("p02")]])
        #expect(try rig.send().stderr.contains("p01: uncertain"))

        let resent = try rig.send(["--resend", "p01"])
        #expect(resent.status == 0, "\(resent.stderr)")
        #expect(try rig.server.received().count == 2)
        #expect(try rig.send().status == 0)
    }

    @Test func draftsAreRefusedNamingTheRenderOptionsAndNothingIsSent() throws {
        let rig = try Rig(partners: 2, renderExtra: [])
        defer { rig.cleanup() }
        let run = try rig.send()
        #expect(run.status == 1)
        #expect(run.stderr.contains("p01/report.eml lacks the header(s) From: Date:; render it again with --eml-from 'Name <address>' and --eml-date now"), "\(run.stderr)")
        #expect(run.stderr.contains("2 message(s) not ready to send; nothing was sent"), "\(run.stderr)")
        #expect(try rig.server.received().isEmpty)
        #expect(!SendFixture.log(rig.out).contains("start"))
        // From: alone is not enough either.
        let fromOnly = rig.temp.url.appendingPathComponent("from-only")
        try SendFixture.render(fromOnly, files: rig.export.files, contacts: rig.export.contacts, extra: ["--eml-from", SendFixture.from])
        let second = try rig.send(folder: fromOnly)
        #expect(second.status == 1)
        #expect(second.stderr.contains("lacks the header(s) Date:; render it again with --eml-date now"), "\(second.stderr)")
        #expect(try rig.server.received().isEmpty)
    }

    @Test func nothingIsSentFromAFolderThatIsNotACompleteRender() throws {
        let rig = try Rig(partners: 2)
        defer { rig.cleanup() }
        let marker = rig.out.appendingPathComponent(".balance-report-output")
        let saved = try Data(contentsOf: marker)
        try FileManager.default.removeItem(at: marker)
        let missing = try rig.send()
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("is not a finished render output (it has no .balance-report-output): nothing is sent from it"), "\(missing.stderr)")
        try Data(("balance-report output 2\n").utf8).write(to: marker)
        let other = try rig.send()
        #expect(other.status == 1)
        #expect(other.stderr.contains("does not start with 'balance-report output 1'"), "\(other.stderr)")
        // A marker that is a symbolic link is not the render's.
        try FileManager.default.removeItem(at: marker)
        let elsewhere = rig.temp.url.appendingPathComponent("marker-elsewhere")
        try saved.write(to: elsewhere)
        try FileManager.default.createSymbolicLink(at: marker, withDestinationURL: elsewhere)
        #expect(try rig.send().status == 1)
        #expect(try rig.server.received().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: rig.out.appendingPathComponent(".balance-report-sent.log").path))

        // A report.eml replaced by a link to another file is not sent; the rest are.
        try FileManager.default.removeItem(at: marker)
        try saved.write(to: marker)
        let eml = rig.out.appendingPathComponent("p01/report.eml")
        try FileManager.default.moveItem(at: eml, to: rig.temp.url.appendingPathComponent("p01.eml"))
        try FileManager.default.createSymbolicLink(at: eml, withDestinationURL: rig.temp.url.appendingPathComponent("p01.eml"))
        let linked = try rig.send()
        #expect(linked.status == 1)
        #expect(linked.stderr.contains("p01: failed: cannot open p01/report.eml"), "\(linked.stderr)")
        #expect(try rig.server.received().map(\.recipients) == [[SendFixture.address("p02")]])
    }

    @Test func noSecondSendNorARenderReplacingTheFolderWhileASendRuns() throws {
        let rig = try Rig(partners: 2)
        defer { rig.cleanup() }
        let slow = try SpawnedProcess(["send", rig.out.path, "--sendmail", "sleep 1.5; " + rig.sendmail])
        let deadline = Date().addingTimeInterval(20)
        while !SendFixture.log(rig.out).contains("start ") && Date() < deadline { usleep(20_000) }
        let second = try rig.send()
        #expect(second.status == 1)
        #expect(second.stderr.contains("another `balance-report send`, or a render replacing it, is working on"), "\(second.stderr)")
        // A render would carry over a log that is still being written, and lose its last records.
        let render = try BalanceReportBinary.run(["render", "--period", "2024-03", "--quiet", "--out", rig.out.path, "--eml", "--contacts", rig.export.contacts,
                                                  "--eml-from", SendFixture.from, "--eml-date", "2024-04-03T09:00:00+03:00"] + rig.export.files)
        #expect(render.status == 1)
        #expect(render.stderr.contains("is in use by another balance-report run (`send` delivering from it, or a render); render again when it has finished"), "\(render.stderr)")
        let first = slow.wait()
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try rig.server.received().count == 2)
        // Once it is done, the render replaces the folder and keeps the whole log.
        let log = SendFixture.log(rig.out)
        try SendFixture.render(rig.out, files: rig.export.files, contacts: rig.export.contacts)
        #expect(SendFixture.log(rig.out) == log)
        #expect(try rig.send().stderr.contains("send: 0 sent, 2 already sent"))
    }

    @Test func aCommandThatCannotRunFailsAndOneKilledMidwayIsUncertain() throws {
        let rig = try Rig(partners: 2)
        defer { rig.cleanup() }
        let missing = try rig.send(["--only", "p01"], sendmail: "/nonexistent/sendmail -t -oi")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("p01: failed: sendmail exited with status 127: "), "\(missing.stderr)")
        #expect(missing.stderr.contains("not found"), "\(missing.stderr)")
        // A sendmail killed while it had the message may have sent it: uncertain, not failed.
        let killed = try rig.send(["--only", "p02"], sendmail: "cat >/dev/null; kill -9 $$")
        #expect(killed.status == 1)
        #expect(killed.stderr.contains("p02: uncertain: cat was killed by signal 9 while delivering"), "\(killed.stderr)")
        let log = SendFixture.log(rig.out).split(separator: "\n")
        #expect(log.last?.hasPrefix("start p02 ") == true, "\(log)")
        // The command runs with SIGPIPE at its default although send ignores it, and with no signal
        // blocked although send was started with SIGTERM blocked (as a test runner's children are).
        // posix_spawn blocks every signal in send until it has returned, and on a loaded machine the
        // command can run before send is scheduled again: wait (up to 5 s) for send's own mask.
        let script = "for i in $(seq 100); do grep -q '^SigBlk:.*fffffffffffbfeff' /proc/$PPID/status || break; sleep 0.05; done; "
            + "grep -E '^Sig(Blk|Ign)' /proc/$PPID/status | sed 's/^/send /'; grep -E '^Sig(Blk|Ign)' /proc/self/status | sed 's/^/child /'; exit 1"
        let masks = try BalanceReportBinary.runBlockingSIGTERM(["send", rig.out.path, "--only", "p01", "--sendmail", script]).stderr
        func mask(_ who: String, _ name: String) -> UInt64? {
            (try? Regex("\(who) \(name): ([0-9a-f]{16})")).flatMap { masks.firstMatch(of: $0) }
                .flatMap { $0.output[1].substring }.flatMap { UInt64($0, radix: 16) }
        }
        let pipeBit: UInt64 = 1 << (UInt64(SIGPIPE) - 1)
        #expect(mask("send", "SigBlk") == 1 << (UInt64(SIGTERM) - 1), "\(masks)")
        #expect(mask("send", "SigIgn").map { $0 & pipeBit != 0 } == true, "\(masks)")
        #expect(mask("child", "SigIgn").map { $0 & pipeBit == 0 } == true, "\(masks)")
        #expect(mask("child", "SigBlk") == 0, "\(masks)")
        // Next time p01 (failed) is sent, p02 (uncertain) is not.
        let next = try rig.send()
        #expect(next.stderr.contains("sent p01 to") && next.stderr.contains("p02: uncertain"), "\(next.stderr)")
        #expect(try rig.server.received().map(\.recipients) == [[SendFixture.address("p01")]])
    }

    @Test func theOutputReplacedWhileSendingStopsTheRun() throws {
        let rig = try Rig(partners: 3)
        defer { rig.cleanup() }
        // The first delivery also puts a new marker in place, as a render replacing the folder would.
        let marker = rig.out.appendingPathComponent(".balance-report-output").path
        let replace = "cp '\(marker)' '\(marker).new' && mv '\(marker).new' '\(marker)'; " + rig.sendmail
        let run = try rig.send(sendmail: replace)
        #expect(run.status == 1)
        #expect(run.stderr.contains("p02: failed: not attempted: \(rig.out.path) was replaced while sending"), "\(run.stderr)")
        #expect(run.stderr.contains("p03: failed: not attempted:"), "\(run.stderr)")
        #expect(try rig.server.received().map(\.recipients) == [[SendFixture.address("p01")]])
        #expect(try rig.send().stderr.contains("send: 2 sent, 1 already sent"))
    }

    @Test func withoutAnyMailTransferAgentTheDefaultCommandIsRefusedOnce() throws {
        let rig = try Rig(partners: 2)
        defer { rig.cleanup() }
        guard access("/usr/sbin/sendmail", X_OK) != 0 else { return }   // this machine has one
        let run = try BalanceReportBinary.run(["send", rig.out.path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("there is no /usr/sbin/sendmail on this machine: install a mail transfer agent"), "\(run.stderr)")
        #expect(!run.stderr.contains("p01"), "\(run.stderr)")
        #expect(!SendFixture.log(rig.out).contains("start"))
        let dry = try BalanceReportBinary.run(["send", rig.out.path, "--dry-run"])
        #expect(dry.status == 0 && dry.stderr.contains("note: there is no /usr/sbin/sendmail"), "\(dry.stderr)")
    }

    @Test func partnerNamesOutsideTheOutputAreAUsageError() throws {
        let rig = try Rig(partners: 2)
        defer { rig.cleanup() }
        let unknown = try rig.send(["--only", "nosuch"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("there is no partner nosuch with a report.eml in this output"), "\(unknown.stderr)")
        #expect(try rig.send(["--resend", "p01", "--only", "p02"]).status == 2)
        #expect(try rig.send(["--resend", "nosuch"]).status == 2)
        #expect(try rig.server.received().isEmpty)
    }

    @Test func aTerminalSeesTheSendingProgressClearedBeforeTheSummary() throws {
        let rig = try Rig(partners: 3)
        defer { rig.cleanup() }
        let run = try TerminalRun.run(["send", rig.out.path, "--sendmail", "sleep 0.3; " + rig.sendmail])
        #expect(run.status == 0, "\(run.terminal)")
        let texts = try progressTexts(run.terminal)
        #expect(texts.contains("sending 1 / 3 messages") && texts.contains("sending 3 / 3 messages"), "\(texts)")
        #expect(try withoutProgress(run.terminal).hasSuffix("send: 3 sent, 0 already sent, 0 skipped, 0 failed, 0 uncertain\n"),
                "\(run.terminal.debugDescription)")
        let quiet = try TerminalRun.run(["send", rig.out.path, "--quiet", "--sendmail", rig.sendmail])
        #expect(quiet.status == 0 && quiet.terminal == "", "\(quiet.terminal.debugDescription)")
    }
}

/// `sha256sum FILE`'s digest: an independent check of the tool's own SHA-256.
func sha256sum(_ path: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["sha256sum", path]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(String(decoding: data, as: UTF8.self).prefix(64))
}

extension BalanceReportBinary {
    /// The binary started with SIGTERM blocked (through Python, which blocks it and execs it).
    static func runBlockingSIGTERM(_ arguments: [String]) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, [signal.SIGTERM]); os.execv(sys.argv[1], sys.argv[1:])",
                             url.path] + arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: "", stderr: String(decoding: data, as: UTF8.self))
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
