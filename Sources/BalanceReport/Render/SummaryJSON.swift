/// `summary.json`: the run summary as JSON with a fixed key order, so equal runs give equal bytes.
enum SummaryJSON {
    /// Duplicates listed one by one (2M duplicate rows of a small `.gz` would make a 400 MB file).
    static let maxDuplicatesListed = 10_000

    static func encode(_ report: RunReport) -> [UInt8] {
        encode(period: report.period, currency: report.currency, summary: report.summary,
               partners: report.partners.map { PartnerLine(partnerID: $0.partnerID, clients: $0.clients.count, totals: $0.totals) })
    }

    /// The same bytes from the figures alone: what a merge of run parts (`SummaryMerge`) writes.
    static func encode(period: ReportPeriod, currency: String, summary: RunSummary, partners: [PartnerLine]) -> [UInt8] {
        let out = JSONWriter()
        out.object {
            out.key("period") {
                out.object {
                    out.field("from", period.firstDay.isoText)
                    out.field("to", period.lastDay.isoText)
                    out.field("start", MoscowTime.isoText(period.interval.start))
                    out.field("end", MoscowTime.isoText(period.interval.end))
                }
            }
            out.field("currency", currency)
            out.key("records") {
                out.object {
                    for kind in RecordKind.allCases {
                        out.key(kind.rawValue) { outcomes(out, summary.outcomes[kind] ?? [:]) }
                    }
                }
            }
            out.key("control_totals") {
                out.object {
                    out.key("accepted") { totals(out, summary.acceptedTotals) }
                    out.key("reported") { totals(out, summary.reportedTotals) }
                    out.field("rejected_without_amount", summary.rejectedWithoutAmount)
                    out.field("balanced", summary.controlFailures.isEmpty)
                }
            }
            out.key("partners") {
                out.array(partners) { partner in
                    out.object {
                        out.field("partner_id", partner.partnerID)
                        out.field("clients", partner.clients)
                        out.key("totals") {
                            out.object {
                                out.field("opening_balance", partner.totals.opening.description)
                                out.field("topups", partner.totals.topups.description)
                                out.field("charges", partner.totals.charges.description)
                                out.field("refunds", partner.totals.refunds.description)
                                out.field("unattached_change", partner.totals.unattachedChange.description)
                                out.field("closing_balance", partner.totals.closing.description)
                            }
                        }
                    }
                }
            }
            out.key("files") {
                out.array(summary.files) { file in
                    out.object {
                        out.field("path", file.path)
                        out.field("format", file.format.rawValue)
                        out.key("kinds") { out.array(file.kinds) { out.value($0.rawValue) } }
                        out.field("records", file.records)
                        out.field("blank_rows", file.blankRows)
                        out.key("outcomes") { outcomes(out, file.outcomes) }
                        out.key("problems") { out.array(file.problems) { out.value($0) } }
                    }
                }
            }
            out.key("rejected") {
                out.array(summary.rejections) { rejection in
                    out.object {
                        out.field("location", location(summary, rejection.source))
                        out.field("record", rejection.kind?.rawValue ?? "file")
                        out.field("id", rejection.recordID)
                        out.field("reason", rejection.reason)
                    }
                }
            }
            out.key("duplicates") {
                out.array(Array(summary.duplicates.prefix(maxDuplicatesListed))) { duplicate in
                    out.object {
                        out.field("location", location(summary, duplicate.source))
                        out.field("record", duplicate.kind.rawValue)
                        out.field("original", location(summary, duplicate.original))
                    }
                }
            }
            // Every duplicate is counted in `records` and `files`; past the first ones (in file and
            // line order) the list says how many it leaves out rather than growing without end.
            if summary.duplicates.count > maxDuplicatesListed {
                out.field("duplicates_not_listed", summary.duplicates.count - maxDuplicatesListed)
            }
        }
        out.bytes.append(0x0A)
        return out.bytes
    }

    static func location(_ summary: RunSummary, _ source: SourceLocation) -> String {
        let index = Int(source.file)
        return (index < summary.files.count ? summary.files[index].path : "?") + ":" + String(source.line)
    }

    static func outcomes(_ out: JSONWriter, _ tallies: [Outcome: Tally]) {
        out.object {
            for outcome in Outcome.allCases {
                let tally = tallies[outcome] ?? Tally()
                out.key(outcome.rawValue) {
                    out.object {
                        out.field("count", tally.count)
                        out.field("amount", tally.amount.description)
                    }
                }
            }
        }
    }

    static func totals(_ out: JSONWriter, _ totals: KindTotals) {
        out.object {
            out.field("topups", totals.topups.description)
            out.field("charges", totals.charges.description)
            out.field("refunds", totals.refunds.description)
        }
    }
}

/// A small pretty-printing JSON writer: keys in the order written, two-space indent.
final class JSONWriter {
    var bytes: [UInt8] = []
    private var depth = 0
    private var needsComma = false

    func object(_ body: () -> Void) {
        bytes.append(UInt8(ascii: "{"))
        depth += 1
        needsComma = false
        body()
        depth -= 1
        if needsComma { newline() }
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    func array<T>(_ items: [T], _ element: (T) -> Void) {
        bytes.append(UInt8(ascii: "["))
        depth += 1
        needsComma = false
        for item in items {
            separator()
            element(item)
            needsComma = true
        }
        depth -= 1
        if !items.isEmpty { newline() }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    func key(_ name: String, _ value: () -> Void) {
        separator()
        string(name)
        bytes.append(contentsOf: ": ".utf8)
        value()
        needsComma = true
    }

    func field(_ name: String, _ value: String) { key(name) { string(value) } }
    func field(_ name: String, _ value: Int) { key(name) { bytes.append(contentsOf: String(value).utf8) } }
    func field(_ name: String, _ value: Bool) { key(name) { bytes.append(contentsOf: (value ? "true" : "false").utf8) } }
    func value(_ text: String) { string(text) }

    private func separator() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        newline()
    }

    private func newline() {
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
    }

    private func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": bytes.append(contentsOf: "\\\"".utf8)
            case "\\": bytes.append(contentsOf: "\\\\".utf8)
            case "\n": bytes.append(contentsOf: "\\n".utf8)
            case "\r": bytes.append(contentsOf: "\\r".utf8)
            case "\t": bytes.append(contentsOf: "\\t".utf8)
            default:
                if scalar.value < 0x20 || scalar == "\u{2028}" || scalar == "\u{2029}" {
                    let hex = String(scalar.value, radix: 16)
                    bytes.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
                } else {
                    bytes.append(contentsOf: String(scalar).utf8)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
