import BalanceReport
import BalanceModel
import BalanceSupport
/// `summary.json`: the run summary as JSON with a fixed key order, so equal runs give equal bytes.
package enum SummaryJSON {
    /// Duplicates listed one by one (2M duplicate rows of a small `.gz` would make a 400 MB file).
    static let maxDuplicatesListed = 10_000

    static func encode(_ report: RunReport) -> [UInt8] {
        encode(period: report.period, currencies: report.currencies, summary: report.summary,
               partners: report.partners.map(PartnerLine.init), invoices: report.invoices)
    }

    /// The same bytes from the figures alone: what a merge of run parts (`SummaryMerge`) writes.
    /// A run of one currency writes it once (`currency`) and plain amounts; a run of several lists
    /// them (`currencies`) and writes every amount as an object by currency (SPEC §2.1: never summed).
    package static func encode(period: ReportPeriod, currencies: [String], summary: RunSummary, partners: [PartnerLine],
                               invoices: InvoiceReconciliation = InvoiceReconciliation()) -> [UInt8] {
        let out = JSONWriter()
        let several = currencies.count > 1
        let currency = currencies.first ?? "RUB"
        func perCurrency<Value>(_ key: String, _ values: PerCurrency<Value>, zero: Value, _ write: @escaping (Value) -> Void) {
            out.key(key) {
                if several {
                    out.object { for entry in values.entries { out.key(entry.currency) { write(entry.value) } } }
                } else {
                    write(values[currency] ?? zero)
                }
            }
        }
        out.object {
            out.key("period") {
                out.object {
                    out.field("from", period.firstDay.isoText)
                    out.field("to", period.lastDay.isoText)
                    out.field("start", MoscowTime.isoText(period.interval.start))
                    out.field("end", MoscowTime.isoText(period.interval.end))
                }
            }
            if several {
                out.key("currencies") { out.array(currencies) { out.value($0) } }
            } else {
                out.field("currency", currency)
            }
            out.key("records") {
                out.object {
                    for kind in RecordKind.allCases {
                        out.key(kind.rawValue) { outcomes(out, summary.outcomes[kind] ?? [:], several: several, currency: currency) }
                    }
                }
            }
            out.key("control_totals") {
                out.object {
                    perCurrency("accepted", summary.acceptedTotals, zero: KindTotals()) { totals(out, $0) }
                    perCurrency("reported", summary.reportedTotals, zero: KindTotals()) { totals(out, $0) }
                    out.field("rejected_without_amount", summary.rejectedWithoutAmount)
                    out.field("balanced", summary.controlFailures.isEmpty)
                }
            }
            // Only in a run that rounded an amount: other runs' summaries keep their bytes.
            if !summary.amountRounding.isEmpty && !several, let rounding = summary.amountRounding.entries.first?.value {
                out.key("amounts_rounded") {
                    out.object {
                        out.field("rule", AmountRounding.rule)
                        out.field("count", rounding.count)
                        out.field("difference", rounding.difference)
                    }
                }
            } else if !summary.amountRounding.isEmpty {
                // Per currency: the differences of two currencies are never added.
                out.key("amounts_rounded") {
                    out.object {
                        out.field("rule", AmountRounding.rule)
                        for entry in summary.amountRounding.entries {
                            out.key(entry.currency) {
                                out.object {
                                    out.field("count", entry.value.count)
                                    out.field("difference", entry.value.difference)
                                }
                            }
                        }
                    }
                }
            }
            out.key("partners") {
                out.array(partners) { partner in
                    out.object {
                        out.field("partner_id", partner.partnerID)
                        out.field("clients", partner.clients)
                        perCurrency("totals", partner.totals, zero: BalanceMovement()) { totals in
                            out.object {
                                out.field("opening_balance", totals.opening.description)
                                out.field("topups", totals.topups.description)
                                out.field("charges", totals.charges.description)
                                out.field("refunds", totals.refunds.description)
                                out.field("unattached_change", totals.unattachedChange.description)
                                out.field("closing_balance", totals.closing.description)
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
                        out.key("outcomes") { outcomes(out, file.outcomes, several: several, currency: currency) }
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
            out.key("unknown_clients") {
                out.array(summary.unknownClients) { entry in
                    out.object {
                        out.field("client_id", entry.clientID)
                        out.field("currency", entry.currency)
                        out.field("transactions", entry.transactions)
                        out.field("amount", entry.amount.description)
                        out.field("first", location(summary, entry.first))
                    }
                }
            }
            out.key("duplicates") {
                out.array(Array(summary.duplicates.prefix(maxDuplicatesListed))) { duplicate in
                    out.object {
                        out.location("location", path(summary, duplicate.source), duplicate.source.line)
                        out.field("record", duplicate.kind.rawValue)
                        out.location("original", path(summary, duplicate.original), duplicate.original.line)
                    }
                }
            }
            // Every duplicate is counted in `records` and `files`; past the first ones (in file and
            // line order) the list says how many it leaves out rather than growing without end.
            if summary.duplicates.count > maxDuplicatesListed {
                out.field("duplicates_not_listed", summary.duplicates.count - maxDuplicatesListed)
            }
            // Only in a run whose rows name invoices (`InvoicesFile.swift`); last, so that the parts
            // of the Spark route compare the fragments before it as they always did (`PartOutput`).
            if !invoices.isEmpty { out.key("invoices") { invoicesJSON(out, invoices) } }
        }
        out.bytes.append(0x0A)
        return out.bytes
    }

    static func location(_ summary: RunSummary, _ source: SourceLocation) -> String {
        path(summary, source) + ":" + String(source.line)
    }

    static func path(_ summary: RunSummary, _ source: SourceLocation) -> String {
        let index = Int(source.file)
        return index < summary.files.count ? summary.files[index].path : "?"
    }

    static func outcomes(_ out: JSONWriter, _ tallies: [Outcome: Tally], several: Bool, currency: String) {
        out.object {
            for outcome in Outcome.allCases {
                let tally = tallies[outcome] ?? Tally()
                out.key(outcome.rawValue) {
                    out.object {
                        out.field("count", tally.count)
                        if several {
                            out.key("amounts") {
                                out.object { for entry in tally.amounts.entries { out.field(entry.currency, entry.value.description) } }
                            }
                        } else {
                            out.field("amount", (tally.amounts[currency] ?? .zero).description)
                        }
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
///
/// A class so that nested closures can write to it; its state is only ever touched from the one
/// thread that writes, so the per-access exclusivity checks (measurable over a million values) are off.
final class JSONWriter {
    @exclusivity(unchecked) var bytes: [UInt8] = []
    @exclusivity(unchecked) private var depth = 0
    @exclusivity(unchecked) private var needsComma = false

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
    /// `"path:line"`, written without making the string (a summary may list a million duplicates).
    func location(_ name: String, _ path: String, _ line: Int32) { key(name) { string(path, line: line) } }

    private func separator() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        newline()
    }

    private func newline() {
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: depth * 2))
    }

    @inline(__always) static func hexDigit(_ value: UInt8) -> UInt8 { value < 10 ? 0x30 + value : 0x57 + value }

    /// A JSON string: byte by byte over the UTF-8 (a summary may list a million duplicates).
    private func string(_ text: String, line: Int32? = nil) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var index = 0
            while index < utf8.count {
                let byte = utf8[index]
                switch byte {
                case 0x22: bytes.append(contentsOf: "\\\"".utf8)
                case 0x5C: bytes.append(contentsOf: "\\\\".utf8)
                case 0x0A: bytes.append(contentsOf: "\\n".utf8)
                case 0x0D: bytes.append(contentsOf: "\\r".utf8)
                case 0x09: bytes.append(contentsOf: "\\t".utf8)
                case 0..<0x20:
                    bytes.append(contentsOf: "\\u00".utf8)
                    bytes.append(JSONWriter.hexDigit(byte >> 4))
                    bytes.append(JSONWriter.hexDigit(byte & 0x0F))
                // U+2028 and U+2029 (E2 80 A8/A9): line breaks to JavaScript.
                case 0xE2 where index + 2 < utf8.count && utf8[index + 1] == 0x80 && (utf8[index + 2] == 0xA8 || utf8[index + 2] == 0xA9):
                    bytes.append(contentsOf: (utf8[index + 2] == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                    index += 2
                default: bytes.append(byte)
                }
                index += 1
            }
        }
        if let line {
            bytes.append(UInt8(ascii: ":"))
            bytes.append(contentsOf: String(line).utf8)
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
