import BalanceReport
import BalanceModel
import BalanceSupport
/// `--eml`: each partner's summary as a message ready to send (`P/report.eml`).
///
/// RFC 5322 / MIME (RFC 2045–2049): `multipart/mixed` holding a `multipart/alternative` of the
/// plain-text summary (`email.txt.mustache`) and the HTML summary (`index.html`), then the partner's
/// tables as base64 attachments: the XLSX workbooks in Russian, the CSV files in English. Non-ASCII header text is RFC 2047 encoded. Nothing depends on
/// the clock or the machine: boundaries are made from a hash of the content, and `Date:` is
/// written only when a date is given. Without `Date:` the file is a draft (`X-Unsent: 1`): the
/// mail program or submission server adds `Date:` when it is sent.
///
/// `Message-ID:` is always written, and made from the content too (see `MIME.messageID`): the
/// same report rendered twice has the same id, a changed one a new id, and `send` records it in
/// its sent log.

/// How `--eml` messages are made.
public struct EmailOptions: Sendable {
    /// `email.txt.mustache`, compiled as HTML (its output is unescaped): `Subject: …`, a blank line, the text.
    public var textTemplate: Template
    /// Recipients by partner id; a partner without any gets no `To:`.
    public var contacts: [ByteKey: [MailAddress]]
    public var from: MailAddress?
    /// `Date:`; `nil` writes none (no wall clock unless asked for).
    public var date: Instant?

    public static let textTemplateName = "email.txt.mustache"

    public init(textTemplate: Template, contacts: [ByteKey: [MailAddress]] = [:], from: MailAddress? = nil, date: Instant? = nil) {
        self.textTemplate = textTemplate
        self.contacts = contacts
        self.from = from
        self.date = date
    }

    /// Compiles the text template (`Subject:` line, blank line, body).
    public static func compileTextTemplate(_ source: String) throws(TemplateError) -> Template {
        var template = try Template(name: textTemplateName, source: source, contentType: .html)
        template.oneLineValues = true
        return template
    }
}

extension ReportRenderer {
    /// `P/report.eml` for every partner of the run.
    public func renderEmails(_ report: RunReport, options: EmailOptions, emit: (String, [UInt8]) throws -> Void) throws {
        for partner in report.partners {
            try emit("\(FileNames.safeName(for: partner.partnerID))/\(OutputFiles.message)", try emailMessage(partner, report, options: options))
        }
    }

    /// The files a partner's message carries, with the names they are attached under and their
    /// MIME type as the Content-Type header continues it (folded where a line would pass 78
    /// characters): the XLSX workbooks in Russian (`attachesXLSX`), the CSV files in English.
    func emailAttachments(_ partner: PartnerReport, _ report: RunReport) throws -> [(name: String, bytes: [UInt8], type: String)] {
        let span = report.period.firstDay.isoText + "_" + report.period.lastDay.isoText
        if attachesXLSX {
            return try workbooks(partner, report).map { workbook in
                let stem = workbook.name.dropLast(".xlsx".count)
                return ("\(stem)_\(span).xlsx", workbook.bytes, "\r\n application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;")
            }
        }
        let csv = " text/csv; charset=utf-8; header=present;"
        return [
            ("snapshot_\(span).csv", try page(templates.snapshotCSV, partner, report), csv),
            ("services_\(span).csv", try page(templates.servicesCSV, partner, report), csv),
            ("daily_\(span).csv", try page(templates.dailyCSV, partner, report), csv),
        ]
    }

    public func emailMessage(_ partner: PartnerReport, _ report: RunReport, options: EmailOptions) throws -> [UInt8] {
        let text = MIME.unescapeHTML(try page(options.textTemplate, partner, report))
        guard text.hasPrefix("Subject:"), let blank = text.firstRange(of: "\n\n") else {
            throw TemplateError(template: options.textTemplate.name, line: 1,
                                message: "the text must start with a 'Subject: …' line and a blank line before the body")
        }
        let subject = String(text[text.index(text.startIndex, offsetBy: 8)..<blank.lowerBound])
            .map { $0.isNewline || $0 == "\t" ? " " : $0 }
            .reduce(into: "") { $0.append($1) }
            .trimmingCharacters(in: " ")
        let body = String(text[blank.upperBound...])
        let attachments = try emailAttachments(partner, report)
        // The body is read away from the output folder: no links into it, and it names what is attached.
        var mailed = self
        mailed.emailAttachmentNames = attachments.map(\.name)
        let html = try mailed.page(templates.partnerIndex, partner, report)

        let textPart = Base64.lines(MIME.canonicalLineEnds(Array(body.utf8)))
        let htmlPart = Base64.lines(MIME.canonicalLineEnds(html))
        let attachmentParts = attachments.map { Base64.lines($0.bytes) }
        let hash = FNV1a64.hex([textPart, htmlPart] + attachmentParts + [Array(subject.utf8)])
        let mixed = "=_br_mixed_" + hash
        let alternative = "=_br_alt_" + hash

        var headers: [String] = []
        if let from = options.from { headers.append(MIME.addressHeader("From", [from])) }
        if let to = options.contacts[ByteKey(partner.partnerID)], !to.isEmpty { headers.append(MIME.addressHeader("To", to)) }
        headers.append(MIME.unstructuredHeader("Subject", subject))
        if let date = options.date { headers.append("Date: " + MIME.date(date)) }
        else { headers.append("X-Unsent: 1") }
        let idAt = headers.count
        headers.append("MIME-Version: 1.0")
        headers.append("Content-Language: " + templates.language.rawValue)
        headers.append("Content-Type: multipart/mixed; boundary=\"\(mixed)\"")

        var out: [UInt8] = []
        func line(_ text: String) { out.append(contentsOf: text.utf8); out.append(contentsOf: [0x0D, 0x0A]) }
        line("")
        line("This is a multi-part message in MIME format.")
        line("--" + mixed)
        line("Content-Type: multipart/alternative; boundary=\"\(alternative)\"")
        line("")
        line("--" + alternative)
        line("Content-Type: text/plain; charset=utf-8")
        line("Content-Transfer-Encoding: base64")
        line("")
        out.append(contentsOf: textPart)
        line("--" + alternative)
        line("Content-Type: text/html; charset=utf-8")
        line("Content-Transfer-Encoding: base64")
        line("")
        out.append(contentsOf: htmlPart)
        line("--" + alternative + "--")
        for (attachment, encoded) in zip(attachments, attachmentParts) {
            line("--" + mixed)
            line("Content-Type:" + attachment.type)
            line(" name=\"\(attachment.name)\"")
            line("Content-Disposition: attachment;")
            line(" filename=\"\(attachment.name)\"")
            line("Content-Transfer-Encoding: base64")
            line("")
            out.append(contentsOf: encoded)
        }
        line("--" + mixed + "--")
        // The id hashes everything else of the message (headers and body), so it is written last.
        var headerBytes: [UInt8] = []
        for header in headers { headerBytes.append(contentsOf: header.utf8); headerBytes.append(contentsOf: MIME.crlf) }
        let id = MIME.messageID(period: report.period, partnerID: partner.partnerID, content: headerBytes + out, from: options.from)
        headers.insert(MIME.fold("Message-ID", [id]), at: idAt)
        var message: [UInt8] = []
        message.reserveCapacity(out.count + headerBytes.count + 80)
        for header in headers { message.append(contentsOf: header.utf8); message.append(contentsOf: MIME.crlf) }
        message.append(contentsOf: out)
        return message
    }
}

/// The MIME pieces, written by hand so the bytes are the same on every machine.
package enum MIME {
    static let crlf: [UInt8] = [0x0D, 0x0A]

    /// Text in its canonical form for mail: every line ends in CRLF (RFC 2046 §4.1.1).
    static func canonicalLineEnds(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 32)
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == 0x0A && previous != 0x0D { out.append(0x0D) }
            out.append(byte)
            previous = byte
        }
        return out
    }

    /// Undoes `Escaping.appendHTML` (its five entities, nothing else).
    static func unescapeHTML(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
            .replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    static func isPlainASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    /// RFC 2047 `B` encoded-words of at most 39 bytes of text each (a word is then at most 64
    /// characters), never splitting a character, and ending a word after a space where one fits:
    /// decoders that wrongly put a space between adjacent encoded-words then at worst double one.
    static func encodedWords(_ text: String) -> [String] {
        func word(_ bytes: [UInt8]) -> String { "=?UTF-8?B?" + String(decoding: Base64.encode(bytes), as: UTF8.self) + "?=" }
        var words: [String] = []
        var chunk: [UInt8] = []
        var afterSpace: Int? = nil   // where the chunk may be cut: just after its last space
        for character in text {
            let bytes = Array(String(character).utf8)
            if !chunk.isEmpty && chunk.count + bytes.count > 39 {
                let cut = afterSpace ?? chunk.count
                words.append(word(Array(chunk[..<cut])))
                chunk = Array(chunk[cut...])
                afterSpace = nil
            }
            chunk.append(contentsOf: bytes)
            if character == " " { afterSpace = chunk.count }
        }
        if !chunk.isEmpty || words.isEmpty { words.append(word(chunk)) }
        return words
    }

    /// `Name: token token …`, folded before a token that would take the line past 78 characters.
    static func fold(_ name: String, _ tokens: [String]) -> String {
        var header = name + ":"
        var lineLength = header.utf8.count
        for token in tokens {
            if lineLength + 1 + token.utf8.count > 78 && lineLength > 1 {
                header += "\r\n"
                lineLength = 0
            }
            header += " " + token
            lineLength += 1 + token.utf8.count
        }
        return header
    }

    /// `Subject:` and the like: as is when printable ASCII, else encoded-words.
    static func unstructuredHeader(_ name: String, _ value: String) -> String {
        if isPlainASCII(value) && !value.contains("=?") {
            return fold(name, value.split(separator: " ").map(String.init))
        }
        return fold(name, encodedWords(value))
    }

    /// A display name as phrase tokens: atoms as they are, other ASCII quoted, anything else encoded.
    static func phrase(_ name: String) -> [String] {
        let atext = "!#$%&'*+-/=?^_`{|}~ "
        if name.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || atext.utf8.contains($0) }) {
            return name.split(separator: " ").map(String.init)
        }
        if isPlainASCII(name) && !name.contains("=?") {
            return ["\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""]
        }
        return encodedWords(name)
    }

    static func addressHeader(_ name: String, _ addresses: [MailAddress]) -> String {
        var tokens: [String] = []
        for (index, address) in addresses.enumerated() {
            let display = address.name.map { $0.isNewline || $0 == "\t" ? " " : $0 }.reduce(into: "") { $0.append($1) }
                .trimmingCharacters(in: " ")
            let last = index == addresses.count - 1 ? "" : ","
            if display.isEmpty {
                tokens.append(address.email + last)
            } else {
                tokens += phrase(display)
                tokens.append("<" + address.email + ">" + last)
            }
        }
        return fold(name, tokens)
    }

    /// The domain of a `Message-ID` when `--eml-from` gives none that fits: `.invalid` is reserved
    /// (RFC 2606), so the id can never be taken for another site's.
    static let fallbackIDDomain = "balance-report.invalid"

    /// `<20240301-20240331.HASH@domain>`: the period the report covers, then 20 hex digits (80 bits) of the
    /// SHA-256 of the partner id and the rest of the message; the domain is that of `From:`
    /// (a dot-atom), else `balance-report.invalid`. Short enough that the
    /// header fits in 78 characters with that domain (a longer domain folds it after the colon). The period is what tells `send` that a
    /// re-rendered message is the same report changed rather than next month's.
    static func messageID(period: ReportPeriod, partnerID: String, content: [UInt8], from: MailAddress?) -> String {
        func day(_ date: CivilDate) -> String { date.isoText.replacingOccurrences(of: "-", with: "") }
        let hash = SHA256.hex(Array(partnerID.utf8) + [0] + content).prefix(20)
        var domain = fallbackIDDomain
        if let email = from?.email, let at = email.lastIndex(of: "@") {
            let candidate = String(email[email.index(after: at)...])
            if isDotAtom(candidate) { domain = candidate.lowercased() }
        }
        return "<\(day(period.firstDay))-\(day(period.lastDay)).\(hash)@\(domain)>"
    }

    /// RFC 5322 `dot-atom-text`: atoms of letters, digits and ``!#$%&'*+-/=?^_`{|}~``, joined by single dots.
    static func isDotAtom(_ text: String) -> Bool {
        let atext = Array("!#$%&'*+-/=?^_`{|}~".utf8)
        let atoms = text.split(separator: ".", omittingEmptySubsequences: false)
        return !atoms.isEmpty && atoms.allSatisfy { atom in
            !atom.isEmpty && atom.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || atext.contains($0) }
        }
    }

    /// `Mon, 01 Apr 2024 09:00:00 +0300`, in Moscow time like everything else.
    static func date(_ instant: Instant) -> String {
        let c = MoscowTime.components(of: instant)
        let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]   // 1970-01-01 was a Thursday
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let days = c.date.daysSinceEpoch
        let weekday = weekdays[Int(((days % 7) + 7) % 7)]
        func two(_ value: Int) -> String { value < 10 ? "0" + String(value) : String(value) }
        return "\(weekday), \(two(c.date.day)) \(months[c.date.month - 1]) \(c.date.year) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0300"
    }
}
