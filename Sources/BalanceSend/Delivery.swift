import BalanceOutput
import BalanceSupport

/// `send` as the library runs it: the output's messages, the sent log and the plan (`prepare`),
/// the refusal of messages not ready to send, and the sending itself (`send`). The command line
/// only prints what it hears and exits with the code.
public enum Delivery {
    public struct Request: Sendable {
        /// The output folder of `render --eml`.
        public var folder: String
        public var sendmail: String = Sendmail.defaultCommand
        public var timeout: Double = Sendmail.defaultTimeout
        public var dryRun = false
        /// Only these partners (folder names); `nil`: every partner.
        public var only: [String]? = nil
        public var resend: [String] = []

        public init(folder: String) { self.folder = folder }
    }

    /// What `prepare` opened and decided.
    public struct Prepared {
        public var output: RenderedOutput
        /// The sent log, locked; `nil` for a dry run (only read).
        public var log: SentLogFile?
        public var plan: SendPlan
        public var mailer: Sendmail
    }

    /// Opens the output (locked unless a dry run) and its sent log, and plans every partner's
    /// message. Notes and warnings go to `report`; what stops the run is thrown.
    public static func prepare(_ request: Request, report: (Diagnostic) -> Void) throws(RunError) -> Prepared {
        let output: RenderedOutput
        do { output = try RenderedOutput(folder: request.folder, locking: !request.dryRun) } catch { throw RunError(error) }
        for stray in output.strayMessages {
            report(.note("\(stray) is not a partner's report.eml (\(request.folder)/P/report.eml); it is not sent"))
        }
        guard !output.partners.isEmpty else {
            throw RunError("\(request.folder) holds no report.eml: render it with --eml (and --contacts, --eml-from, --eml-date)")
        }
        let candidates = output.partners.map { partner in
            SendPlanner.Candidate(partner: partner, message: Result { () throws(Diagnostic) in try output.message(partner) })
        }
        // The log: locked for a real run (one `send` per folder at a time), only read for a dry run.
        let log: SentLogFile?
        let records: [SentLog.Record]
        let problems: [SentLog.Problem]
        do {
            if request.dryRun {
                log = nil
                (records, problems) = try SentLogFile.read(folder: output.folder)
            } else {
                let opened = try SentLogFile(folder: output.folder)
                log = opened
                (records, problems) = (opened.records, opened.problems)
            }
        } catch {
            throw RunError(error)
        }
        for problem in problems {
            report(.warning("not a record, ignored: \(Quoted.cut(problem.text))", location: "\(output.folder)/\(SentLog.fileName):\(problem.line)"))
        }
        let plan: SendPlan
        do { plan = try SendPlanner.plan(candidates, log: records, only: request.only, resend: request.resend) } catch {
            throw RunError([Diagnostic(error.message, exitCode: Diagnostic.usage)])
        }
        for record in plan.earlierUncertain {
            report(.note("\(record.partner): \(record.messageID), of an earlier report, was in flight when a run ended; whether it arrived is unknown"))
        }
        let mailer = Sendmail(command: request.sendmail, timeout: request.timeout)
        if let missing = mailer.missingDefaultProgram, !plan.toSend.isEmpty {
            let hint = "install a mail transfer agent that provides it (Debian: msmtp-mta, or postfix), or name a command with --sendmail"
            if !request.dryRun { throw RunError("there is no \(missing) on this machine: \(hint); nothing was sent") }
            report(.note("there is no \(missing) on this machine: \(hint)"))
        }
        return Prepared(output: output, log: log, plan: plan, mailer: mailer)
    }

    /// Messages to send that lack `From:`, `Date:` or `Message-ID:`: nothing is sent, and each is
    /// named with the option that adds what it lacks. `nil` when every message is ready.
    public static func refusal(_ plan: SendPlan) -> RunError? {
        guard !plan.refusal.isEmpty else { return nil }
        var problems: [Diagnostic] = []
        for entry in plan.refusal {
            guard case .incomplete(let missing) = entry.decision else { continue }
            var how: [String] = []
            if missing.contains(.from) { how.append("--eml-from 'Name <address>'") }
            if missing.contains(.date) { how.append("--eml-date now (or SOURCE_DATE_EPOCH)") }
            if missing.contains(.messageID) { how.append("this version of balance-report (it writes the Message-ID)") }
            problems.append(Diagnostic("\(entry.partner)/report.eml lacks the header(s) \(missing.map(\.rawValue).joined(separator: " ")); render it again with \(how.joined(separator: " and "))"))
        }
        problems.append(Diagnostic("\(plan.refusal.count) message(s) not ready to send; nothing was sent"))
        return RunError(problems)
    }

    /// Sends the plan's messages in order, each logged before and after; `done` hears each partner.
    public static func send(_ prepared: Prepared, done: (SendRun.Result) -> Void) -> [SendRun.Result] {
        let mailer = prepared.mailer
        return SendRun.execute(prepared.plan, log: prepared.log!, output: prepared.output, deliver: { mailer.deliver($0) }, done: done)
    }
}
