import BalanceOutput
import BalanceRender
import BalanceModel
import BalanceSupport
/// Which partners `send` delivers to, which it skips and why: a pure function of the output's
/// messages, the sent log and the command line, so every rule of "never twice, never silently
/// missing" is decided (and unit-tested) here, and the run only carries the plan out.
///
/// Rules, for each partner folder in the output (all of them, or those of `--only`):
/// 1. its `report.eml` cannot be read → **failed**;
/// 2. the log has this exact message (same SHA-256) as `sent` → **already sent**;
/// 3. the log has a `start` of this report with no `sent` or `failed` after it (a run died while
///    it was in flight) → **uncertain**: it may have arrived, so it is not sent again;
/// 4. the message has no `To:`/`Cc:`/`Bcc:` address → **skipped** (never sent to nobody);
/// 5. another version of this report (other bytes) was `sent` → **skipped** as changed;
/// 6. otherwise it is **sent** — also after an earlier `failed`, which delivered nothing.
/// `--resend P` lifts rules 2, 3 and 5 for P. A message to send that lacks `From:`, `Date:` or
/// `Message-ID:` is **incomplete**, and then nothing at all is sent (`SendPlan.refusal`).
///
/// "This report" is the partner folder and the period of the `Message-ID` (`SentLog.reportKey`):
/// the same folder rendered again for the next month is a new report, not a changed one. Records
/// whose id has no period are taken as this report's, the cautious reading.
public enum SendPlanner {
    public struct Candidate: Sendable {
        public var partner: String
        public var message: Result<OutgoingMessage, Diagnostic>

        public init(partner: String, message: Result<OutgoingMessage, Diagnostic>) {
            self.partner = partner
            self.message = message
        }
    }

    public enum Decision: Sendable, Equatable {
        /// `again`: the log already holds an attempt of this report that `--resend` overrides.
        case send(again: Bool)
        case alreadySent
        case uncertain(SentLog.Record)
        case changed(sent: SentLog.Record)
        case noRecipient
        case incomplete([OutgoingMessage.Requirement])
        case unreadable(String)

        public var sends: Bool { if case .send = self { return true } else { return false } }
    }

    public struct Entry: Sendable, Equatable {
        public var partner: String
        public var message: OutgoingMessage?
        public var decision: Decision
    }

    public static func plan(_ candidates: [Candidate], log: [SentLog.Record],
                            only: [String]? = nil, resend: [String] = []) throws(Diagnostic) -> SendPlan {
        let known = Set(candidates.map { Array($0.partner.utf8) })
        for name in (only ?? []) + resend where !known.contains(Array(name.utf8)) {
            throw Diagnostic("there is no partner \(name) with a report.eml in this output")
        }
        let selected = only.map { Set($0.map { Array($0.utf8) }) }
        let resent = Set(resend.map { Array($0.utf8) })
        if let selected, let outside = resend.first(where: { !selected.contains(Array($0.utf8)) }) {
            throw Diagnostic("--resend \(outside) names a partner that --only leaves out")
        }
        let ordered = candidates
            .filter { selected?.contains(Array($0.partner.utf8)) ?? true }
            .sorted { $0.partner.utf8.lexicographicallyPrecedes($1.partner.utf8) }
        // The log by partner, names as bytes (never `String` keys: see SPEC on ids).
        var byPartner: [[UInt8]: [SentLog.Record]] = [:]
        for record in log { byPartner[Array(record.partner.utf8), default: []].append(record) }
        var entries: [Entry] = []
        var earlierUncertain: [SentLog.Record] = []
        for candidate in ordered {
            let own = byPartner[Array(candidate.partner.utf8)] ?? []
            switch candidate.message {
            case .failure(let error):
                entries.append(Entry(partner: candidate.partner, message: nil, decision: .unreadable(error.message)))
            case .success(let message):
                let key = message.messageID.flatMap(SentLog.reportKey)
                let (same, other) = split(own) { record in
                    guard let key, let recordKey = SentLog.reportKey(record.messageID) else { return true }
                    return recordKey == key
                }
                earlierUncertain += unfinished(other)
                entries.append(Entry(partner: candidate.partner, message: message,
                                     decision: decide(message, same, resend: resent.contains(Array(candidate.partner.utf8)))))
            }
        }
        return SendPlan(entries: entries, earlierUncertain: earlierUncertain)
    }

    static func decide(_ message: OutgoingMessage, _ records: [SentLog.Record], resend: Bool) -> Decision {
        let sent = records.filter { $0.step == .sent }
        if !resend {
            if sent.contains(where: { $0.sha256 == message.sha256 }) { return .alreadySent }
            if let open = unfinished(records).last { return .uncertain(open) }
        }
        if message.recipients.isEmpty { return .noRecipient }
        if !resend, let other = sent.last { return .changed(sent: other) }
        let missing = message.missing
        if !missing.isEmpty { return .incomplete(missing) }
        return .send(again: !records.isEmpty && resend)
    }

    /// The `start` records not followed, as the partner's next record, by that message's
    /// `sent` or `failed`. (Attempts of one partner never overlap: the log is locked per run
    /// and a run sends each partner once, so a start's outcome is always its next record.)
    static func unfinished(_ records: [SentLog.Record]) -> [SentLog.Record] {
        var open: [SentLog.Record] = []
        for (index, record) in records.enumerated() where record.step == .start {
            let next = index + 1 < records.count ? records[index + 1] : nil
            let finished = next.map { $0.step != .start && $0.sha256 == record.sha256 && $0.messageID == record.messageID } ?? false
            if !finished { open.append(record) }
        }
        return open
    }

    private static func split(_ records: [SentLog.Record], _ belongs: (SentLog.Record) -> Bool) -> ([SentLog.Record], [SentLog.Record]) {
        var yes: [SentLog.Record] = [], no: [SentLog.Record] = []
        for record in records { if belongs(record) { yes.append(record) } else { no.append(record) } }
        return (yes, no)
    }
}

/// What `SendPlanner.plan` decided, partner by partner, in byte order of the folder names.
public struct SendPlan: Sendable, Equatable {
    public var entries: [SendPlanner.Entry]
    /// Messages of earlier reports (another period) that were in flight when a run died: not
    /// this folder's business any more, but never forgotten silently.
    public var earlierUncertain: [SentLog.Record]

    public var toSend: [SendPlanner.Entry] { entries.filter { $0.decision.sends } }

    /// The incomplete messages, when there are any: then the run sends nothing.
    public var refusal: [SendPlanner.Entry] {
        entries.filter { if case .incomplete = $0.decision { return true } else { return false } }
    }
}
