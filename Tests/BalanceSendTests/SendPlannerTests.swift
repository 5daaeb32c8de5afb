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

/// The pure part of `send`: the planner's rules, the log's lines, reading a message, SHA-256.
@Suite("send: planner, log, message")
struct SendPlannerTests {
    static func eml(to: String? = "a@p.example", from: String? = "Billing <b@cloud.example>", date: Bool = true,
                    id: String? = "<20240301-20240331.0123456789abcdef0123@cloud.example>", body: String = "hello") -> OutgoingMessage {
        var headers: [String] = []
        if let from { headers.append("From: " + from) }
        if let to { headers.append("To: " + to) }
        headers.append("Subject: =?UTF-8?B?0J7RgtGH0ZHRgg==?= March")
        if date { headers.append("Date: Mon, 01 Apr 2024 09:00:00 +0300") } else { headers.append("X-Unsent: 1") }
        if let id { headers.append("Message-ID: " + id) }
        headers.append("Content-Type: multipart/mixed; boundary=\"b1\"")
        let text = headers.joined(separator: "\r\n") + "\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n\(body)\r\n--b1\r\n"
            + "Content-Type: text/csv;\r\n name=\"x.csv\"\r\nContent-Disposition: attachment;\r\n filename=\"snapshot.csv\"\r\n\r\nYQ==\r\n--b1--\r\n"
        return OutgoingMessage(bytes: Array(text.utf8))
    }

    static func candidates(_ messages: [String: OutgoingMessage]) -> [SendPlanner.Candidate] {
        messages.map { SendPlanner.Candidate(partner: $0.key, message: .success($0.value)) }
    }

    static func record(_ step: SentLog.Step, _ partner: String, _ message: OutgoingMessage, reason: String? = nil) -> SentLog.Record {
        SentLog.Record(step, partner: partner, messageID: message.messageID!, sha256: message.sha256, reason: reason)
    }

    func decisions(_ messages: [String: OutgoingMessage], _ log: [SentLog.Record], only: [String]? = nil,
                   resend: [String] = []) throws -> [String: SendPlanner.Decision] {
        let plan = try SendPlanner.plan(Self.candidates(messages), log: log, only: only, resend: resend)
        return Dictionary(uniqueKeysWithValues: plan.entries.map { ($0.partner, $0.decision) })
    }

    // MARK: Planner

    @Test func aFreshOutputSendsEveryPartnerInByteOrder() throws {
        let plan = try SendPlanner.plan(Self.candidates(["b": Self.eml(), "a": Self.eml(), "B": Self.eml()]), log: [])
        #expect(plan.entries.map(\.partner) == ["B", "a", "b"])
        #expect(plan.toSend.count == 3 && plan.refusal.isEmpty)
        #expect(plan.entries.allSatisfy { $0.decision == .send(again: false) })
    }

    @Test func whatWasSentIsNotSentAgain_unlessResent() throws {
        let m = Self.eml()
        let log = [Self.record(.start, "a", m), Self.record(.sent, "a", m)]
        #expect(try decisions(["a": m, "b": m], log) == ["a": .alreadySent, "b": .send(again: false)])
        #expect(try decisions(["a": m], log, resend: ["a"]) == ["a": .send(again: true)])
        // A log for another partner of the same bytes says nothing about this one.
        #expect(try decisions(["b": m], log) == ["b": .send(again: false)])
    }

    @Test func aStartWithoutOutcomeIsUncertain_evenAfterALaterFailedResend() throws {
        let m = Self.eml()
        let start = Self.record(.start, "a", m)
        #expect(try decisions(["a": m], [start]) == ["a": .uncertain(start)])
        // --resend that failed: the first attempt may still have arrived.
        let log = [start, Self.record(.start, "a", m), Self.record(.failed, "a", m, reason: "550")]
        #expect(try decisions(["a": m], log) == ["a": .uncertain(start)])
        #expect(try decisions(["a": m], log, resend: ["a"]) == ["a": .send(again: true)])
        // Once it was sent, the partner has it: already sent, not uncertain.
        #expect(try decisions(["a": m], log + [Self.record(.start, "a", m), Self.record(.sent, "a", m)]) == ["a": .alreadySent])
        // A start of another version of this report is just as uncertain.
        let changed = Self.eml(body: "changed")
        #expect(try decisions(["a": changed], [start]) == ["a": .uncertain(start)])
    }

    @Test func aFailureDeliveredNothingSoItIsSentAgain() throws {
        let m = Self.eml()
        let log = [Self.record(.start, "a", m), Self.record(.failed, "a", m, reason: "msmtp exited with status 65")]
        #expect(try decisions(["a": m], log) == ["a": .send(again: false)])
    }

    @Test func aChangedReportIsNotSentUnlessResent_nextMonthIsANewReport() throws {
        let old = Self.eml()
        let new = Self.eml(id: "<20240301-20240331.ffffffffffffffffffff@cloud.example>", body: "rendered again")
        let sent = Self.record(.sent, "a", old)
        let log = [Self.record(.start, "a", old), sent]
        #expect(try decisions(["a": new], log) == ["a": .changed(sent: sent)])
        #expect(try decisions(["a": new], log, resend: ["a"]) == ["a": .send(again: true)])
        let april = Self.eml(id: "<20240401-20240430.0123456789abcdef0123@cloud.example>", body: "april")
        #expect(try decisions(["a": april], log) == ["a": .send(again: false)])
        // An id without a period cannot be told apart: taken as the same report (never twice).
        let foreign = Self.eml(id: "<abc@elsewhere.example>", body: "x")
        #expect(try decisions(["a": foreign], log) == ["a": .changed(sent: sent)])
    }

    @Test func anEarlierReportsUnfinishedStartIsNotedButDoesNotBlockThisOne() throws {
        let march = Self.eml()
        let april = Self.eml(id: "<20240401-20240430.0123456789abcdef0123@cloud.example>", body: "april")
        let plan = try SendPlanner.plan(Self.candidates(["a": april]), log: [Self.record(.start, "a", march)])
        #expect(plan.entries.map(\.decision) == [.send(again: false)])
        #expect(plan.earlierUncertain == [Self.record(.start, "a", march)])
    }

    @Test func noRecipientIsSkippedEvenWithResend() throws {
        for header in [nil, "", "undisclosed-recipients:;"] as [String?] {
            let m = Self.eml(to: header)
            #expect(try decisions(["a": m], [], resend: ["a"]) == ["a": .noRecipient], "To: \(header ?? "absent")")
        }
    }

    @Test func incompleteMessagesRefuseTheWholeRun() throws {
        let plan = try SendPlanner.plan(Self.candidates(["a": Self.eml(), "b": Self.eml(from: nil, date: false), "c": Self.eml(id: nil)]), log: [])
        #expect(plan.refusal.map(\.partner) == ["b", "c"])
        #expect(plan.entries[1].decision == .incomplete([.from, .date]))
        #expect(plan.entries[2].decision == .incomplete([.messageID]))
        // Already sent or skipped ones do not need to be complete.
        let draft = Self.eml(to: nil, date: false)
        #expect(try SendPlanner.plan(Self.candidates(["a": draft]), log: []).refusal.isEmpty)
    }

    @Test func onlyAndResendNameExistingPartners() throws {
        let messages = ["a": Self.eml(), "b": Self.eml()]
        #expect(try SendPlanner.plan(Self.candidates(messages), log: [], only: ["b"]).entries.map(\.partner) == ["b"])
        #expect(throws: Diagnostic.self) { try SendPlanner.plan(Self.candidates(messages), log: [], only: ["c"]) }
        #expect(throws: Diagnostic.self) { try SendPlanner.plan(Self.candidates(messages), log: [], resend: ["c"]) }
        #expect(throws: Diagnostic.self) { try SendPlanner.plan(Self.candidates(messages), log: [], only: ["a"], resend: ["b"]) }
        // Names are bytes: an NFD name is not the NFC one.
        let nfc = "\u{00C9}", nfd = "E\u{0301}"
        #expect(throws: Diagnostic.self) {
            try SendPlanner.plan([SendPlanner.Candidate(partner: nfc, message: .success(Self.eml()))], log: [], only: [nfd])
        }
    }

    @Test func anUnreadableMessageFailsOnlyItself() throws {
        let plan = try SendPlanner.plan([SendPlanner.Candidate(partner: "a", message: .failure(Diagnostic("cannot open a/report.eml"))),
                                         SendPlanner.Candidate(partner: "b", message: .success(Self.eml()))], log: [])
        #expect(plan.entries.map(\.decision) == [.unreadable("cannot open a/report.eml"), .send(again: false)])
    }

    // MARK: The log

    @Test func logLinesRoundTripAndReasonsStayOnOneLine() {
        let m = Self.eml()
        let records = [Self.record(.start, "p-1", m), Self.record(.sent, "p-1", m),
                       Self.record(.failed, "_d0", m, reason: "msmtp: 550\r\nBcc: x\tmore  words\u{2028}end")]
        let text = records.map(SentLog.line).joined()
        #expect(text.split(separator: "\n").count == 3)
        let parsed = SentLog.parse(Array(text.utf8))
        #expect(parsed.problems.isEmpty)
        #expect(parsed.records.dropLast() == records.dropLast())
        #expect(parsed.records.last?.reason == "msmtp: 550 Bcc: x more words end")
        #expect(SentLog.line(records[0]) == "start p-1 \(m.messageID!) \(m.sha256)\n")
    }

    @Test func aLineCutShortOrMalformedIsAProblemNotARecord() {
        let m = Self.eml()
        let good = SentLog.line(Self.record(.sent, "a", m))
        let bad = ["sent a \(m.messageID!) abc\n", "start a <x> \(m.sha256)\n", "sent a b \(m.messageID!) \(m.sha256)\n",
                   "failed a \(m.messageID!) \(m.sha256)\n", "sending a \(m.messageID!) \(m.sha256)\n",
                   "start  a \(m.messageID!) \(m.sha256)\n"]
        for line in bad {
            let parsed = SentLog.parse(Array((good + line).utf8))
            #expect(parsed.records.count == 1 && parsed.problems.count == 1, "\(line)")
        }
        // A last line with no LF was being written when the process died.
        let torn = String(good.dropLast())
        let parsed = SentLog.parse(Array((good + torn).utf8))
        #expect(parsed.records.count == 1 && parsed.problems.map(\.line) == [2])
    }

    @Test func theLogFileAppendsLocksAndEndsATornLine() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let m = Self.eml()
        let path = temp.url.appendingPathComponent(SentLog.fileName).path
        try Data(("start a \(m.messageID!) \(m.sha256)\nsent a \(m.messageID!)").utf8).write(to: URL(fileURLWithPath: path))
        do {
            let log = try SentLogFile(folder: temp.url.path)
            #expect(log.records == [Self.record(.start, "a", m)])
            #expect(log.problems.count == 1)
            #expect(throws: Diagnostic.self) { try SentLogFile(folder: temp.url.path) }   // locked
            try log.append(Self.record(.sent, "b", m))
            #expect(log.isStillInPlace)
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix("sent a \(m.messageID!)\nsent b \(m.messageID!) \(m.sha256)\n"), "\(text)")
        let reread = try SentLogFile(folder: temp.url.path)   // the lock went with the first object
        #expect(reread.records.map(\.partner) == ["a", "b"])
    }

    // MARK: Reading a message

    @Test func aMessageIsReadForWhatSendNeeds() {
        let m = Self.eml(to: "\"Doe, J\" <j@p.example>, plain@p.example (comment), =?UTF-8?B?0K8=?= <y@p.example>")
        #expect(m.recipients == ["j@p.example", "plain@p.example", "y@p.example"])
        #expect(m.subject == "Отчёт March")
        #expect(m.attachments == ["snapshot.csv"])
        #expect(m.messageID == "<20240301-20240331.0123456789abcdef0123@cloud.example>")
        #expect(m.missing.isEmpty)
        #expect(Self.eml(from: nil, date: false, id: "<no spaces allowed @x>").missing == [.from, .date, .messageID])
        // Cc and Bcc are recipients of `sendmail -t` too.
        let cc = OutgoingMessage(bytes: Array("From: a@b\r\nCc: c@d\r\nBcc: e@f\r\n\r\nx".utf8))
        #expect(cc.recipients == ["c@d", "e@f"])
        // Folded headers are unfolded.
        #expect(OutgoingMessage(bytes: Array("To: a@b,\r\n c@d\r\n\r\n".utf8)).recipients == ["a@b", "c@d"])
    }

    @Test func sha256MatchesTheFIPSVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Lengths around the padding boundary, against Foundation-free expectations computed by sha256sum.
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 55)) == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 64)) == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
    }

    @Test func theMessageIDIsTheHashOfTheRestAndFitsTheLine() {
        let period = try! ReportPeriod.parse("2024-03")
        let a = MIME.messageID(period: period, partnerID: "p", content: [1, 2], from: MailAddress(email: "x@Cloud.Example"))
        #expect(a == "<20240301-20240331." + String(SHA256.hex(Array("p".utf8) + [0, 1, 2]).prefix(20)) + "@cloud.example>")
        #expect(MIME.messageID(period: period, partnerID: "q", content: [1, 2], from: nil).hasSuffix("@balance-report.invalid>"))
        #expect(MIME.messageID(period: period, partnerID: "q", content: [1, 2], from: nil) != MIME.messageID(period: period, partnerID: "p", content: [1, 2], from: nil))
        #expect(MIME.messageID(period: period, partnerID: "p", content: [1, 2], from: MailAddress(email: "x@a..b")).hasSuffix("@balance-report.invalid>"))
        #expect(SentLog.reportKey(a) == "20240301-20240331")
        #expect(SentLog.reportKey("<abc@d>") == nil)
        // A long From: domain folds the header after the colon instead of passing 78 characters.
        let long = MIME.messageID(period: period, partnerID: "p", content: [], from: MailAddress(email: "x@" + String(repeating: "d", count: 40) + ".example"))
        let header = MIME.fold("Message-ID", [long])
        #expect(header.hasPrefix("Message-ID:\r\n <"))
        #expect(OutgoingMessage(bytes: Array((header + "\r\n\r\n").utf8)).messageID == long)
    }
}

/// The folder lock that `send` holds and `render` needs to replace an output.
@Suite("send: the output folder lock")
struct OutputLockTests {
    @Test func renderCannotReplaceAFolderASendHoldsAndKeepsItsLogAfterwards() throws {
        let temp = try TemporaryFolder()
        defer { temp.cleanup() }
        let out = temp.url.appendingPathComponent("out").path
        let first = try ReportWriter(destination: out)
        try first.write("p/report.eml", [1])
        try first.publish()
        try Data("start p <a@b> \(String(repeating: "0", count: 64))\n".utf8).write(to: URL(fileURLWithPath: out + "/" + SentLog.fileName))

        var lock: OutputLock? = try OutputLock(out)
        #expect(throws: OutputLock.Failure.busy) { try OutputLock(out) }
        let second = try ReportWriter(destination: out)
        try second.write("p/report.eml", [2])
        #expect(throws: Diagnostic.self) { try second.publish() }
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/p/report.eml")) == Data([1]), "replaced under a send")
        lock = nil
        _ = lock
        let third = try ReportWriter(destination: out)
        try third.write("p/report.eml", [2])
        try third.publish()
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/p/report.eml")) == Data([2]))
        #expect(try String(contentsOfFile: out + "/" + SentLog.fileName, encoding: .utf8).hasPrefix("start p <a@b> "))
        // The writer that published no longer holds the folder.
        #expect(throws: Never.self) { _ = try OutputLock(out) }
    }
}
