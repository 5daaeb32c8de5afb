import BalanceOutput
import BalanceRender
import BalanceModel
import BalanceSupport
/// What `send` needs to know of a `P/report.eml` before it hands it to sendmail: who it goes to,
/// whether it is complete, what it is (its `Message-ID` and the SHA-256 of its bytes), and what
/// `--dry-run` shows (subject, size, attachments). Read from the message itself, the same bytes
/// that are sent, so what is shown, logged and delivered cannot disagree.
public struct OutgoingMessage: Sendable, Equatable {
    /// The file's bytes, exactly; these are what is delivered and hashed.
    public var bytes: [UInt8]
    /// SHA-256 of `bytes`, 64 hex digits.
    public var sha256: String
    /// `<…>` as written in the header, `nil` when there is none or it is not one token.
    public var messageID: String?
    public var from: String?
    public var date: String?
    /// `X-Unsent: 1`: a draft made without `--eml-date`.
    public var isDraft: Bool
    /// The addresses of `To:`, `Cc:` and `Bcc:`, which `sendmail -t` delivers to.
    public var recipients: [String]
    /// `Subject:`, RFC 2047 words decoded.
    public var subject: String
    /// The file names of the top-level attachments.
    public var attachments: [String]

    public var size: Int { bytes.count }

    /// What a message needs before it may be sent: a sender, a date and an id to log (see `missing`).
    public enum Requirement: String, Sendable, Equatable {
        case from = "From:"
        case date = "Date:"
        case messageID = "Message-ID:"
    }

    /// Which of `From:`, `Date:` and `Message-ID:` the message lacks (a draft lacks `Date:`).
    /// `sendmail -t` would fill some of them in itself, with the machine's name and clock: the
    /// message the partner got would then not be the file that was checked and logged.
    public var missing: [Requirement] {
        var missing: [Requirement] = []
        if from?.isEmpty ?? true { missing.append(.from) }
        if date?.isEmpty ?? true || isDraft { missing.append(.date) }
        if messageID == nil { missing.append(.messageID) }
        return missing
    }

    public init(bytes: [UInt8]) {
        self.bytes = bytes
        sha256 = SHA256.hex(bytes)
        let (headers, bodyStart) = MessageHeaders.parse(bytes)
        func first(_ name: String) -> String? { headers.first { $0.name == name }?.value }
        let id = first("message-id")?.trimmingCharacters(in: " \t")
        messageID = id.flatMap { OutgoingMessage.isMessageID($0) ? $0 : nil }
        from = first("from")?.trimmingCharacters(in: " \t")
        date = first("date")?.trimmingCharacters(in: " \t")
        isDraft = first("x-unsent")?.trimmingCharacters(in: " \t") == "1"
        recipients = headers.filter { ["to", "cc", "bcc"].contains($0.name) }.flatMap { MessageHeaders.addresses($0.value) }
        subject = MessageHeaders.decodeWords(first("subject")?.trimmingCharacters(in: " \t") ?? "")
        attachments = []
        if let type = first("content-type"), let boundary = MessageHeaders.parameter("boundary", of: type) {
            attachments = MessageHeaders.attachmentNames(bytes, from: bodyStart, boundary: boundary)
        }
    }

    /// `<left@right>` with nothing that could split a log line or a header: printable ASCII, no
    /// spaces, one `@`, at most 250 characters.
    static func isMessageID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 5, bytes.count <= 250, bytes.first == UInt8(ascii: "<"), bytes.last == UInt8(ascii: ">") else { return false }
        let inner = bytes.dropFirst().dropLast()
        return inner.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }
            && inner.filter { $0 == UInt8(ascii: "@") }.count == 1
            && inner.first != UInt8(ascii: "@") && inner.last != UInt8(ascii: "@")
    }
}

/// Just enough of RFC 5322 / MIME reading for `OutgoingMessage`.
enum MessageHeaders {
    struct Field: Equatable {
        /// Lowercased.
        var name: String
        /// Unfolded (line breaks removed), not decoded.
        var value: String
    }

    /// The header fields, unfolded, and where the body starts (after the blank line).
    static func parse(_ bytes: [UInt8]) -> ([Field], Int) {
        var fields: [Field] = []
        var index = 0
        var current: [UInt8]? = nil
        func flush() {
            guard let line = current else { return }
            current = nil
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
            let name = String(decoding: line[..<colon], as: UTF8.self).trimmingCharacters(in: " \t").lowercased()
            fields.append(Field(name: name, value: String(decoding: line[(colon + 1)...], as: UTF8.self)))
        }
        while index < bytes.count {
            var end = index
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            var line = Array(bytes[index..<end])
            if line.last == 0x0D { line.removeLast() }
            index = min(end + 1, bytes.count)
            if line.isEmpty { break }
            if line.first == 0x20 || line.first == 0x09 {
                current = (current ?? []) + line
            } else {
                flush()
                current = line
            }
        }
        flush()
        return (fields, index)
    }

    /// The addr-specs of an address list: `a@b`, `Name <a@b>`, `"Doe, J" <a@b>`, groups, comments.
    static func addresses(_ value: String) -> [String] {
        var result: [String] = []
        var element: [UInt8] = []
        var angle: [UInt8] = []
        var inAngle = false, sawAngle = false, quoted = false, escaped = false
        var comment = 0
        func finish() {
            let text = String(decoding: sawAngle ? angle : element, as: UTF8.self).trimmingCharacters(in: " \t")
            if !text.isEmpty { result.append(text) }
            element = []
            angle = []
            sawAngle = false
        }
        for byte in value.utf8 {
            if escaped { escaped = false; continue }
            if quoted {
                if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { quoted = false }
                continue
            }
            if comment > 0 {
                if byte == UInt8(ascii: "\\") { escaped = true }
                else if byte == UInt8(ascii: "(") { comment += 1 }
                else if byte == UInt8(ascii: ")") { comment -= 1 }
                continue
            }
            if inAngle {
                if byte == UInt8(ascii: ">") { inAngle = false } else { angle.append(byte) }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): quoted = true
            case UInt8(ascii: "("): comment = 1
            case UInt8(ascii: "<"): inAngle = true; sawAngle = true; angle = []
            case UInt8(ascii: ","), UInt8(ascii: ";"): finish()
            case UInt8(ascii: ":"): element = []   // `group:` — what came before was the group's name
            default: element.append(byte)
            }
        }
        finish()
        return result
    }

    /// A parameter of a structured header such as `Content-Type: …; boundary="x"`.
    static func parameter(_ name: String, of value: String) -> String? {
        for piece in value.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: " \t").lowercased() == name else { continue }
            var text = pair[1].trimmingCharacters(in: " \t")
            if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = String(text.dropFirst().dropLast()) }
            return text
        }
        return nil
    }

    /// The `filename` of each top-level part whose `Content-Disposition` is `attachment`.
    static func attachmentNames(_ bytes: [UInt8], from start: Int, boundary: String) -> [String] {
        let delimiter = Array(("--" + boundary).utf8)
        var names: [String] = []
        var index = start
        while index < bytes.count {
            var end = index
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            var line = bytes[index..<end]
            if line.last == 0x0D { line = line.dropLast() }
            index = min(end + 1, bytes.count)
            guard Array(line) == delimiter else { continue }
            let (fields, _) = parse(Array(bytes[index...]))
            if let disposition = fields.first(where: { $0.name == "content-disposition" })?.value,
               disposition.trimmingCharacters(in: " \t").lowercased().hasPrefix("attachment") {
                names.append(decodeWords(parameter("filename", of: disposition) ?? "(no name)"))
            }
        }
        return names
    }

    /// RFC 2047 encoded-words (`=?UTF-8?B?…?=`, `Q` too) decoded, the white space between two
    /// adjacent words dropped; words in other charsets are left as they are.
    static func decodeWords(_ text: String) -> String {
        var out: [UInt8] = []
        var pendingSpace: [UInt8] = []
        var lastWasWord = false
        for token in splitKeepingSpaces(text) {
            if token.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                pendingSpace = token
                continue
            }
            if let decoded = decodeWord(token) {
                if !lastWasWord { out += pendingSpace }
                out += decoded
                lastWasWord = true
            } else {
                out += pendingSpace + token
                lastWasWord = false
            }
            pendingSpace = []
        }
        out += pendingSpace
        return String(decoding: out, as: UTF8.self)
    }

    private static func splitKeepingSpaces(_ text: String) -> [[UInt8]] {
        var tokens: [[UInt8]] = []
        var current: [UInt8] = []
        var inSpace = false
        for byte in text.utf8 {
            let space = byte == 0x20 || byte == 0x09
            if space != inSpace, !current.isEmpty { tokens.append(current); current = [] }
            inSpace = space
            current.append(byte)
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    private static func decodeWord(_ token: [UInt8]) -> [UInt8]? {
        let text = String(decoding: token, as: UTF8.self)
        guard text.hasPrefix("=?"), text.hasSuffix("?="), text.count > 4 else { return nil }
        let parts = text.dropFirst(2).dropLast(2).split(separator: "?", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let charset = parts[0].lowercased()
        guard charset == "utf-8" || charset == "us-ascii" else { return nil }
        switch parts[1].lowercased() {
        case "b": return Base64.decode(Array(parts[2].utf8))
        case "q":
            var out: [UInt8] = []
            let bytes = Array(parts[2].utf8)
            var index = 0
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "_") { out.append(0x20); index += 1 }
                else if bytes[index] == UInt8(ascii: "="), index + 2 < bytes.count,
                        let value = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                    out.append(value); index += 3
                } else { out.append(bytes[index]); index += 1 }
            }
            return out
        default: return nil
        }
    }

}
