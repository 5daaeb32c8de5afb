import BalanceSupport
import BalancePipeline
import BalanceSend
import BalanceOutput
import BalanceRender
import BalanceIngest
import BalanceModel
import ArgumentParser
import BalanceReport
import Foundation

/// `balance-report send DIR`: delivers each `DIR/P/report.eml` of a finished `render --eml`
/// output through the sendmail interface, each message once, recording every step in
/// `DIR/.balance-report-sent.log` (see `SentLog`). The rules are `SendPlanner`'s; this is the
/// command line, the progress line and the summary.
///
/// Exit codes: 0 every selected partner's message has been sent (now or before); 1 one was not
/// (failed, uncertain, skipped), or the folder is not a complete render, or its messages are not
/// complete; 2 the command line is wrong.
struct Send: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deliver each partner's report.eml of a finished render --eml output, once.",
        discussion: "Every step is recorded in DIR/\(SentLog.fileName): a message already sent is not sent again, one whose delivery was cut short is reported uncertain and sent again only with --resend."
    )

    @Argument(help: ArgumentHelp("The output folder of `render --eml` (it must hold the marker of a complete render).", valueName: "DIR"))
    var folder: String

    @Option(help: ArgumentHelp("The sendmail-compatible command the messages are piped to, run by /bin/sh.", valueName: "CMD"))
    var sendmail: String = Sendmail.defaultCommand

    @Flag(name: .customLong("dry-run"), help: "List what would be sent to whom (recipients, subject, size, attachments); send nothing.")
    var dryRun = false

    @Option(help: ArgumentHelp("Only these partners (folder names; repeat or separate with commas).", valueName: "P"))
    var only: [String] = []

    @Option(help: ArgumentHelp("Send these partners' messages even when the log says they were sent, changed or in flight (repeat or separate with commas).", valueName: "P"))
    var resend: [String] = []

    @Option(help: ArgumentHelp("Seconds one delivery may take; a sendmail still running then is killed and its message counted uncertain.", valueName: "SECONDS"))
    var timeout: Double = Sendmail.defaultTimeout

    @Flag(help: "Print nothing but the partners not sent and errors (and no progress line).")
    var quiet = false

    static func names(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func validate() throws {
        if sendmail.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--sendmail names a command") }
        if !only.isEmpty && Send.names(only).isEmpty { throw ValidationError("--only names partners") }
        if !(timeout > 0 && timeout <= 86_400) { throw ValidationError("--timeout is a number of seconds, more than 0 and at most 86400") }
    }

    func run() throws {
        var request = Delivery.Request(folder: folder)
        request.sendmail = sendmail
        request.timeout = timeout
        request.dryRun = dryRun
        request.only = only.isEmpty ? nil : Send.names(only)
        request.resend = Send.names(resend)
        do throws(RunError) {
            let prepared = try Delivery.prepare(request) { Diagnostics.print($0) }
            if dryRun { printDryRun(prepared.plan) }
            if let refusal = Delivery.refusal(prepared.plan) { throw refusal }
            if dryRun { Foundation.exit(0) }
            let progress = ProgressLine.shared
            progress.begin(quiet: quiet, inputs: [], stage: .sending(total: prepared.plan.toSend.count))
            let results = Delivery.send(prepared) { result in
                if prepared.plan.toSend.contains(where: { $0.partner == result.partner }) { progress.fileWritten() }
                report(result)
            }
            progress.finish()
            summarise(results)
            Foundation.exit(results.allSatisfy { $0.outcome.delivered } ? 0 : ExitStatus.dataError)
        } catch {
            throw Diagnostics.fail(error)
        }
    }

    /// One line per partner as it is done; not-sent ones are printed even with `--quiet`.
    func report(_ result: SendRun.Result) {
        let to = result.message.map { $0.recipients.joined(separator: ", ") } ?? ""
        switch result.outcome {
        case .sent(let again):
            if !quiet { Diagnostics.line("sent \(result.partner)\(again ? " again" : "") to \(to)") }
        case .alreadySent:
            if !quiet { Diagnostics.line("already sent \(result.partner) (\(result.message?.messageID ?? ""))") }
        case .skipped(let why): Diagnostics.line("balance-report: \(result.partner): skipped: \(why)")
        case .failed(let why): Diagnostics.line("balance-report: \(result.partner): failed: \(why)")
        case .uncertain(let why): Diagnostics.line("balance-report: \(result.partner): uncertain: \(why)")
        }
    }

    func summarise(_ results: [SendRun.Result]) {
        func count(_ test: (SendRun.Outcome) -> Bool) -> Int { results.filter { test($0.outcome) }.count }
        let sent = count { if case .sent = $0 { true } else { false } }
        let already = count { $0 == .alreadySent }
        let skipped = count { if case .skipped = $0 { true } else { false } }
        let failed = count { if case .failed = $0 { true } else { false } }
        let uncertain = count { if case .uncertain = $0 { true } else { false } }
        let notSent = results.filter { !$0.outcome.delivered }
        if !quiet || !notSent.isEmpty {
            Diagnostics.line("send: \(sent) sent, \(already) already sent, \(skipped) skipped, \(failed) failed, \(uncertain) uncertain")
        }
        if !notSent.isEmpty {
            let names = notSent.map { result -> String in
                switch result.outcome {
                case .skipped: return "\(result.partner) (skipped)"
                case .failed: return "\(result.partner) (failed)"
                case .uncertain: return "\(result.partner) (uncertain)"
                default: return result.partner
                }
            }
            Diagnostics.line("not sent: " + names.joined(separator: ", "))
        }
    }

    /// `--dry-run`: the plan on stdout, one block per partner.
    func printDryRun(_ plan: SendPlan) {
        var lines: [String] = []
        var sends = 0
        for entry in plan.entries {
            if entry.decision.sends, let message = entry.message {
                sends += 1
                lines.append("\(entry.partner): would send\(entry.decision == .send(again: true) ? " again" : "") to \(message.recipients.joined(separator: ", "))")
                lines.append("    subject: \(message.subject)")
                lines.append("    size: \(message.size) bytes; attachments: \(message.attachments.isEmpty ? "none" : message.attachments.joined(separator: ", "))")
                lines.append("    message: \(message.messageID ?? "-") sha256 \(message.sha256)")
                continue
            }
            switch SendRun.outcome(of: entry) {
            case .alreadySent?: lines.append("\(entry.partner): already sent (\(entry.message?.messageID ?? ""))")
            case .skipped(let why)?: lines.append("\(entry.partner): would skip: \(why)")
            case .failed(let why)?: lines.append("\(entry.partner): would fail: \(why)")
            case .uncertain(let why)?: lines.append("\(entry.partner): uncertain: \(why)")
            default: break
            }
        }
        lines.append("dry run: \(sends) of \(plan.entries.count) would be sent; nothing was sent")
        print(lines.joined(separator: "\n"))
    }
}
