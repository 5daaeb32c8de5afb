import BalanceOutput
import BalanceRender
import BalanceModel
import BalanceSupport
/// Carries out a `SendPlan`, one partner after another: `start` in the log (on disk) before the
/// message is handed over, then `sent` or `failed`. When the log cannot be written, or the output
/// folder is replaced under the run, it stops at once: nothing is ever sent that the log could
/// not first record.
public enum SendRun {
    public enum Outcome: Sendable, Equatable {
        /// `again`: a `--resend` of a message the log already had.
        case sent(again: Bool)
        case alreadySent
        case skipped(String)
        case failed(String)
        case uncertain(String)

        public var delivered: Bool {
            switch self {
            case .sent, .alreadySent: return true
            default: return false
            }
        }
    }

    public struct Result: Sendable, Equatable {
        public var partner: String
        public var message: OutgoingMessage?
        public var outcome: Outcome
    }

    /// The outcome of every entry that is not sent, as the plan decided it.
    public static func outcome(of entry: SendPlanner.Entry) -> Outcome? {
        let partner = entry.partner
        switch entry.decision {
        case .send: return nil
        case .alreadySent: return .alreadySent
        case .uncertain(let record):
            return .uncertain("the delivery of \(record.messageID) started in an earlier run that did not finish, so it may have arrived; check with the mail server or the partner, then --resend \(partner) if it did not")
        case .changed(let sent):
            return .skipped("report.eml changed after \(sent.messageID) was sent (rendered again); --resend \(partner) sends the new one")
        case .noRecipient:
            return .skipped("report.eml has no To: recipient (render --contacts has no address for this partner)")
        case .incomplete(let missing):
            return .failed("report.eml lacks " + missing.map(\.rawValue).joined(separator: ", "))
        case .unreadable(let why):
            return .failed(why)
        }
    }

    /// Sends every `toSend` entry of `plan` in order through `deliver`, logging each step in `log`.
    /// `willSend` is told before each delivery, `done` after each partner (in plan order).
    public static func execute(_ plan: SendPlan, log: SentLogFile, output: RenderedOutput,
                               deliver: ([UInt8]) -> Sendmail.Outcome,
                               willSend: (SendPlanner.Entry) -> Void = { _ in },
                               done: (Result) -> Void = { _ in }) -> [Result] {
        var results: [Result] = []
        var stopped: String? = nil
        func finish(_ entry: SendPlanner.Entry, _ outcome: Outcome) {
            let result = Result(partner: entry.partner, message: entry.message, outcome: outcome)
            results.append(result)
            done(result)
        }
        for entry in plan.entries {
            if let outcome = outcome(of: entry) {
                finish(entry, outcome)
                continue
            }
            guard case .send(let again) = entry.decision, let message = entry.message, let id = message.messageID else { continue }
            if let stopped {
                finish(entry, .failed("not attempted: " + stopped))
                continue
            }
            guard output.isStillInPlace, log.isStillInPlace else {
                stopped = "\(output.folder) was replaced while sending (by a render?); send again to carry on with the new output"
                finish(entry, .failed("not attempted: " + stopped!))
                continue
            }
            do {
                try log.append(SentLog.Record(.start, partner: entry.partner, messageID: id, sha256: message.sha256))
            } catch {
                stopped = error.message
                finish(entry, .failed("not attempted: " + error.message))
                continue
            }
            willSend(entry)
            let delivery = deliver(message.bytes)
            do {
                switch delivery {
                case .accepted:
                    try log.append(SentLog.Record(.sent, partner: entry.partner, messageID: id, sha256: message.sha256))
                    finish(entry, .sent(again: again))
                case .refused(let why):
                    try log.append(SentLog.Record(.failed, partner: entry.partner, messageID: id, sha256: message.sha256, reason: why))
                    finish(entry, .failed(why))
                case .unknown(let why):
                    // The `start` stays without an outcome: the next run reports it uncertain too.
                    finish(entry, .uncertain(why))
                }
            } catch {
                stopped = error.message
                switch delivery {
                case .accepted:
                    finish(entry, .uncertain("sendmail took the message, but the log could not record it (\(error.message)); the next run will call it uncertain"))
                case .refused(let why):
                    finish(entry, .failed(why + "; the log could not record it (\(error.message)), so the next run will call it uncertain"))
                case .unknown(let why):
                    finish(entry, .uncertain(why))
                }
            }
        }
        return results
    }
}
