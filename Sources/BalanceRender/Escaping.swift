import BalanceReport
import BalanceModel
import BalanceSupport
/// The CSV flavours the tool writes.
public enum CSVDialect: String, Sendable, CaseIterable {
    /// RFC 4180 with `,`, `.` as decimal mark, LF line ends, no BOM.
    case standard
    /// What Excel for Russia opens without an import wizard: UTF-8 BOM, `;`, decimal comma, CRLF.
    case excelRU = "excel-ru"

    public var separator: Character { self == .standard ? "," : ";" }
    public var separatorByte: UInt8 { self == .standard ? UInt8(ascii: ",") : UInt8(ascii: ";") }
    public var decimalMark: Character { self == .standard ? "." : "," }
    public var lineEnd: String { self == .standard ? "\n" : "\r\n" }
    public var byteOrderMark: [UInt8] { self == .standard ? [] : [0xEF, 0xBB, 0xBF] }
}

/// Escaping of data text for the document it is written into. Template authors never escape:
/// the renderer does it for every value.
public enum Escaping {
    public static func append(_ text: String, for contentType: ContentType, to output: inout [UInt8]) {
        switch contentType {
        case .html: appendHTML(text, to: &output)
        case .csv(let dialect): appendCSVCell(text, separator: dialect.separatorByte, to: &output)
        }
    }

    /// Whether any byte of `text` satisfies `test`; over the string's own storage when it has one
    /// (native strings do), which is several times faster than walking the UTF-8 view.
    @inline(__always)
    static func anyByte(_ text: String, _ test: (UInt8) -> Bool) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { $0.contains(where: test) } ?? text.utf8.contains(where: test)
    }

    /// `& < > " '` as entities: safe in element content and in quoted attributes alike. A bidi
    /// control (U+202E and its kin) is written as visible text, `[U+202E]`: as a character (or an
    /// entity, which the browser turns back into one) it would reorder the page around the name.
    public static func appendHTML(_ text: String, to output: inout [UInt8]) {
        let utf8 = text.utf8
        if !anyByte(text, { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'") || $0 == 0xE2 || $0 == 0xD8 }) {
            output.append(contentsOf: utf8)
            return
        }
        if anyByte(text, { $0 == 0xE2 || $0 == 0xD8 }), text.unicodeScalars.contains(where: { isBidiControl($0.value) }) {
            var visible = ""
            for scalar in text.unicodeScalars {
                if isBidiControl(scalar.value) {
                    visible += "[U+" + String(scalar.value, radix: 16, uppercase: true) + "]"
                } else {
                    visible.unicodeScalars.append(scalar)
                }
            }
            appendHTML(visible, to: &output)
            return
        }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "&"): output.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): output.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): output.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\""): output.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): output.append(contentsOf: "&#39;".utf8)
            default: output.append(byte)
            }
        }
    }

    public static func html(_ text: String) -> String {
        var output: [UInt8] = []
        appendHTML(text, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// One CSV cell: quoted as RFC 4180 requires, and neutralised against spreadsheet formulas —
    /// text starting with `= + - @`, tab, CR, LF or NUL gets a leading `'` (and quotes). A plain
    /// number such as `-1500.00` or `-1500,00` is left as it is: it cannot be a formula.
    public static func appendCSVCell(_ text: String, separator: UInt8, to output: inout [UInt8]) {
        let utf8 = text.utf8
        // A switch, not a membership test on an array literal: this runs for every CSV cell.
        let formula: Bool
        switch utf8.first {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D, 0x0A, 0x00: formula = true
        default: formula = false
        }
        let neutralise = formula && !isPlainNumber(utf8)
        let needsQuotes = neutralise || anyByte(text) { $0 == separator || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        if !needsQuotes {
            output.append(contentsOf: utf8)
            return
        }
        output.append(UInt8(ascii: "\""))
        if neutralise { output.append(UInt8(ascii: "'")) }
        for byte in utf8 {
            if byte == UInt8(ascii: "\"") { output.append(byte) }
            output.append(byte)
        }
        output.append(UInt8(ascii: "\""))
    }

    public static func csvCell(_ text: String, dialect: CSVDialect = .standard) -> String {
        var output: [UInt8] = []
        appendCSVCell(text, separator: dialect.separatorByte, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Text for a terminal: control characters (C0 with line breaks, DEL, C1) and the bidi
    /// controls that reorder a line (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069) written as
    /// `\u{1B}`, so data in a message (an id `t1\e[2J\e]0;PWNED\a`) can neither move the cursor,
    /// retitle the window nor disguise the line around it.
    public static func terminal(_ text: String) -> String {
        if !anyByte(text, { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 || $0 == 0xD8 || $0 == 0xE2 }) { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x20 || (0x7F...0x9F).contains(value) || isBidiControl(value) {
                out += "\\u{" + String(value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The characters that change the direction of the text after them.
    static func isBidiControl(_ value: UInt32) -> Bool {
        value == 0x200E || value == 0x200F || value == 0x061C || (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value)
    }

    /// `-?digits([.,]digits)?`
    static func isPlainNumber(_ utf8: String.UTF8View) -> Bool {
        var index = utf8.startIndex
        if index < utf8.endIndex && utf8[index] == UInt8(ascii: "-") { index = utf8.index(after: index) }
        var digits = 0
        var sawMark = false
        var fractionDigits = 0
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte >= 0x30 && byte <= 0x39 {
                if sawMark { fractionDigits += 1 } else { digits += 1 }
            } else if (byte == UInt8(ascii: ".") || byte == UInt8(ascii: ",")) && !sawMark && digits > 0 {
                sawMark = true
            } else {
                return false
            }
            index = utf8.index(after: index)
        }
        return digits > 0 && (!sawMark || fractionDigits > 0)
    }
}
