import BalanceModel
import BalanceSupport
internal import CLibXML2
import Glibc

/// A problem that makes an XML export unreadable; `line` is where libxml2 stopped.
public struct XMLReadError: Error, Equatable, Sendable {
    public var line: Int
    public var reason: String
}

/// One record element of an XML export, its fields in schema order (the value form, for tests and
/// benchmarks; the Ingestor decodes `XMLFieldRecord`s, which make no `String`).
public struct XMLRecord: Sendable {
    public var kind: RecordKind
    public var line: Int
    /// Values by schema position; `nil` where the record does not have the field.
    /// Fields outside the schema are ignored, as extra CSV columns are.
    public var values: [String?]
    /// A field the record gives more than once (as an attribute and as a child element): the
    /// record is rejected naming it, never "the first wins".
    public var twice: String? = nil
}

/// Where one field's bytes are in a record's buffer; `length` -1: the record does not have it.
struct XMLFieldSpan {
    var start: Int32 = 0
    var length: Int32 = -1
}

/// One record's fields as bytes in schema order, valid only while the record is being delivered:
/// attribute values and child text copied into one reusable buffer, never a `String`.
struct XMLFields: SourceFields {
    let bytes: UnsafePointer<UInt8>
    let spans: UnsafePointer<XMLFieldSpan>
    /// A profile's null tokens: values that read as empty.
    var nullTokens: [[UInt8]] = []

    func has(_ index: Int) -> Bool { spans[index].length >= 0 }

    func withField<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let span = spans[index]
        let field = UnsafeBufferPointer(start: span.length > 0 ? bytes + Int(span.start) : nil, count: max(0, Int(span.length)))
        if nullTokens.isEmpty || !nullTokens.contains(where: { $0.elementsEqual(field) }) { return try body(field) }
        return try body(UnsafeBufferPointer(start: nil, count: 0))
    }
}

/// A record as the SAX reader delivers it.
struct XMLFieldRecord {
    var kind: RecordKind
    var line: Int
    var fields: XMLFields
    /// The schema position of a field the record gives more than once (the first such).
    var twice: Int?

    /// The value form (tests).
    var record: XMLRecord {
        XMLRecord(kind: kind, line: line,
                  values: (0..<kind.fields.count).map { index in
                      fields.has(index) ? fields.withField(index) { String(decoding: $0, as: UTF8.self) } : nil
                  },
                  twice: twice.map { kind.fields[$0] })
    }
}

extension RecordKind {
    /// Index of the kind in `allCases`.
    var slot: Int {
        switch self {
        case .client: 0
        case .event: 1
        case .transaction: 2
        }
    }

    /// `fields.count`, without making the array.
    var fieldCount: Int {
        switch self {
        case .client: 8
        case .event: 3
        case .transaction: 8
        }
    }

    /// `xmlRecord` as a C string, for comparing with libxml2's names.
    var xmlRecordName: StaticString {
        switch self {
        case .client: "client"
        case .event: "event"
        case .transaction: "transaction"
        }
    }
}

/// Child text as SPEC reads it: white space (Unicode's, as `trimmingWhitespace`) at either end
/// does not count.
enum XMLText {
    /// The bytes of `count` at `from` without leading and trailing white space.
    static func trimmed(_ base: UnsafePointer<UInt8>, from: Int, count: Int) -> (start: Int, count: Int) {
        var start = from
        var end = from + count
        while start < end {
            let width = whitespaceWidth(base, at: start, end: end)
            if width == 0 { break }
            start += width
        }
        while end > start {
            let width = trailingWhitespaceWidth(base, from: start, end: end)
            if width == 0 { break }
            end -= width
        }
        return (start, end - start)
    }

    /// The UTF-8 length of the white space character at `at`, 0 when there is none (Unicode's
    /// White_Space: tab to CR, space, U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029,
    /// U+202F, U+205F, U+3000).
    static func whitespaceWidth(_ base: UnsafePointer<UInt8>, at index: Int, end: Int) -> Int {
        let lead = base[index]
        if lead == 0x20 || (lead >= 0x09 && lead <= 0x0D) { return 1 }
        if lead < 0xC2 { return 0 }
        let left = end - index
        if lead == 0xC2, left >= 2 { return base[index + 1] == 0x85 || base[index + 1] == 0xA0 ? 2 : 0 }
        guard left >= 3 else { return 0 }
        return isWhitespace3(lead, base[index + 1], base[index + 2]) ? 3 : 0
    }

    static func trailingWhitespaceWidth(_ base: UnsafePointer<UInt8>, from start: Int, end: Int) -> Int {
        let last = base[end - 1]
        if last == 0x20 || (last >= 0x09 && last <= 0x0D) { return 1 }
        if end - start >= 2 && base[end - 2] == 0xC2 && (last == 0x85 || last == 0xA0) { return 2 }
        if end - start >= 3 && isWhitespace3(base[end - 3], base[end - 2], last) { return 3 }
        return 0
    }

    private static func isWhitespace3(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Bool {
        switch (a, b) {
        case (0xE1, 0x9A): return c == 0x80
        case (0xE2, 0x80): return (c >= 0x80 && c <= 0x8A) || c == 0xA8 || c == 0xA9 || c == 0xAF
        case (0xE2, 0x81): return c == 0x9F
        case (0xE3, 0x80): return c == 0x80
        default: return false
        }
    }
}

/// Reads `<root><clients|events|transactions><record …/>…</…></root>` exports through libxml2's
/// SAX2 interface (`XMLRecordParser`): fields are attributes or child elements.
///
/// Hostile documents are refused, never expanded: no network, no DTD loading, no entity
/// substitution, and any DOCTYPE or entity reference is an error.
public enum XMLRecordReader {
    /// The only parser options this product ever passes to libxml2 (pinned by a unit test).
    public static let parserOptions: Int32 = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)

    /// Largest text a single field may hold; a longer one is an error, so memory stays bounded.
    public static let maxFieldBytes = 1 << 20
    /// Most attributes one element may have. libxml2 2.9 checks a start tag's attributes for
    /// duplicates pair by pair (60,000 attributes: 8 s), so the bytes are counted before it sees them.
    public static let maxAttributes = 256
    /// Bytes handed to libxml2 at a time.
    static let chunkBytes = 1 << 17

    /// Reads every record of the file at `path` (tests; the Ingestor reads the inputs it opened).
    public static func read(path: String, mapping: HeaderMapping, onSection: (RecordKind) -> Void = { _ in },
                            onRecord: (XMLRecord) throws -> Void) throws {
        let source: InputSource
        do { source = try InputSource.open(path) } catch { throw XMLReadError(line: 0, reason: error.reason) }
        try read(feed: source.feed(), mapping: mapping, onSection: onSection, onRecord: onRecord)
        if let failure = source.finish() { throw XMLReadError(line: 0, reason: failure) }
    }

    /// Reads every record of the content `feed` serves. Throws at the first problem: a document
    /// that is not well-formed is rejected whole, never read in part. `onSection` hears each
    /// `<clients>`, `<events>` or `<transactions>` element, also an empty one.
    static func read(feed: ByteFeed, mapping: HeaderMapping, onSection: (RecordKind) -> Void = { _ in },
                     onRecord: (XMLRecord) throws -> Void) throws {
        try readFields(feed: feed, mapping: mapping, onSection: onSection) { try onRecord($0.record) }
    }

    /// `read` with each record's fields as bytes (`XMLFields`, valid only during the call).
    static func readFields(feed: ByteFeed, mapping: HeaderMapping, onSection: (RecordKind) -> Void,
                           onRecord: (XMLFieldRecord) throws -> Void) throws {
        let parser = XMLRecordParser(mapping: mapping)
        try parser.reading(onSection: onSection, onRecord: onRecord) {
            try pump(into: parser, read: { feed.read(into: $0, count: $1) }, failure: { feed.failure })
            try parser.finish()
        }
    }

    /// Feeds `parser` until the end of what `read` serves (-1: it failed, `failure` says why), or
    /// until `limit` bytes (then the parser stays open). Every byte is scanned by the parser's
    /// markup guard before libxml2 sees it.
    static func pump(into parser: XMLRecordParser, limit: Int? = nil, read: (UnsafeMutablePointer<UInt8>, Int) -> Int,
                     failure: () -> String?) throws {
        let chunk = UnsafeMutablePointer<UInt8>.allocate(capacity: chunkBytes)
        defer { chunk.deallocate() }
        var fed = 0
        while limit.map({ fed < $0 }) ?? true {
            let got = read(chunk, min(chunkBytes, limit.map { $0 - fed } ?? chunkBytes))
            if got < 0 { throw XMLReadError(line: parser.markup.line + parser.lineShift, reason: failure() ?? "read failed") }
            if got == 0 { break }
            // Refused before libxml2 sees the refused start tag (too many attributes). The bytes
            // before it are parsed (libxml2 waits for the end of a start tag, so it never reads
            // that one): the records before it are read however the document was chunked, and a
            // problem of libxml2's before it comes first.
            if let refused = parser.markup.scan(UnsafeBufferPointer(start: chunk, count: got)) {
                let line = parser.markup.line + parser.lineShift
                parser.push(UnsafeBufferPointer(start: chunk, count: parser.markup.refusedAt))
                if let failure = parser.failure { throw failure }
                throw XMLReadError(line: line, reason: refused)
            }
            fed += got
            if !parser.push(UnsafeBufferPointer(start: chunk, count: got)) { break }
        }
        if let failure = parser.failure { throw failure }
    }
}
