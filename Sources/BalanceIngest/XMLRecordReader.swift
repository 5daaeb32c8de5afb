import BalanceModel
import BalanceSupport
internal import CLibXML2

/// A problem that makes an XML export unreadable; `line` is where libxml2 stopped.
public struct XMLReadError: Error, Equatable, Sendable {
    public var line: Int
    public var reason: String
}

/// One record element of an XML export, its fields in schema order.
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

/// Looks at an XML document's bytes before libxml2 does: counts the attributes of each start
/// tag (refusing more than `maxAttributes`), and notes the line of a DOCTYPE. It only needs to
/// tell markup from text, quoted values, comments, CDATA and processing instructions.
struct XMLMarkupGuard {
    let maxAttributes: Int
    private(set) var line = 1
    private(set) var doctypeLine: Int? = nil
    private enum State { case text, open, tag, quoted(UInt8), bang(Int), comment, cdata, instruction, declaration }
    private var state = State.text
    private var attributes = 0
    /// The last bytes seen, for the ends of comments (`-->`), CDATA (`]]>`) and instructions (`?>`).
    private var last: (UInt8, UInt8) = (0, 0)
    private var bang: [UInt8] = []

    init(maxAttributes: Int) { self.maxAttributes = maxAttributes }

    /// Scans the next bytes; returns the reason to refuse the document, if any.
    mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        for byte in bytes {
            if byte == 0x0A { line += 1 }
            switch state {
            case .text:
                if byte == UInt8(ascii: "<") { state = .open }
            case .open:
                switch byte {
                case UInt8(ascii: "!"): state = .bang(0); bang = []
                case UInt8(ascii: "?"): state = .instruction
                default:
                    attributes = 0
                    state = byte == UInt8(ascii: ">") ? .text : .tag
                }
            case .tag:
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "'"): state = .quoted(byte)
                case UInt8(ascii: "="):
                    attributes += 1
                    if attributes > maxAttributes { return "an element has more than \(maxAttributes) attributes" }
                case UInt8(ascii: ">"): state = .text
                default: break
                }
            case .quoted(let quote):
                if byte == quote { state = .tag }
            case .bang(let count):
                bang.append(byte)
                if bang == Array("--".utf8) { state = .comment; last = (0, 0) }
                else if bang == Array("[CDATA[".utf8) { state = .cdata; last = (0, 0) }
                else if !Array("[CDATA[".utf8).starts(with: bang) && !Array("--".utf8).starts(with: bang) {
                    if bang.first == UInt8(ascii: "D") && doctypeLine == nil { doctypeLine = line }
                    state = byte == UInt8(ascii: ">") ? .text : .declaration
                } else { state = .bang(count + 1) }
            case .comment:
                if byte == UInt8(ascii: ">") && last == (UInt8(ascii: "-"), UInt8(ascii: "-")) { state = .text }
            case .cdata:
                if byte == UInt8(ascii: ">") && last == (UInt8(ascii: "]"), UInt8(ascii: "]")) { state = .text }
            case .instruction:
                if byte == UInt8(ascii: ">") && last.1 == UInt8(ascii: "?") { state = .text }
            case .declaration:
                if byte == UInt8(ascii: ">") { state = .text }
            }
            last = (last.1, byte)
        }
        return nil
    }
}

/// Reads `<root><clients|events|transactions><record …/>…</…></root>` exports with libxml2's
/// streaming `xmlTextReader`: fields are attributes or child elements.
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

    private final class ErrorSink {
        var first: XMLReadError?
    }

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
        var markup = XMLMarkupGuard(maxAttributes: maxAttributes)
        feed.inspector = { bytes in markup.scan(bytes) }
        let feedPointer = Unmanaged.passUnretained(feed).toOpaque()
        guard let reader = xmlReaderForIO({ context, buffer, length in
            guard let context, let buffer, length > 0 else { return -1 }
            let feed = Unmanaged<ByteFeed>.fromOpaque(context).takeUnretainedValue()
            return Int32(feed.read(into: UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: UInt8.self), count: Int(length)))
        }, nil, feedPointer, nil, nil, parserOptions) else {
            throw XMLReadError(line: 0, reason: feed.failure ?? "cannot read as XML")
        }
        defer { xmlFreeTextReader(reader) }
        let sink = ErrorSink()
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        xmlTextReaderSetStructuredErrorHandler(reader, { context, error in
            guard let context, let error else { return }
            let sink = Unmanaged<ErrorSink>.fromOpaque(context).takeUnretainedValue()
            guard sink.first == nil, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
            let message = error.pointee.message.map { String(cString: $0) } ?? "XML error"
            sink.first = XMLReadError(line: Int(error.pointee.line),
                                      reason: "not well-formed XML: " + message.trimmingWhitespace())
        }, sinkPointer)

        /// The line the current node starts on. libxml2 keeps it in the node, but only up to 65 535;
        /// the parser's own line runs ahead of the reader (it parses 512-byte chunks ahead), so it is
        /// only the fallback for longer files.
        func currentLine() -> Int {
            if let node = xmlTextReaderCurrentNode(reader) {
                let line = xmlGetLineNo(node)
                if line > 0 && line < 65_535 { return Int(line) }
            }
            return Int(xmlTextReaderGetParserLineNumber(reader))
        }
        func fail(_ reason: String) -> XMLReadError {
            XMLReadError(line: currentLine(), reason: reason)
        }
        func name() -> String {
            guard let raw = xmlTextReaderConstLocalName(reader) else { return "" }
            return String(cString: raw)
        }
        func value() -> String {
            guard let raw = xmlTextReaderConstValue(reader) else { return "" }
            return String(cString: raw)
        }
        // Schema positions of field names (attributes and child elements alike), per record kind;
        // -1 for a name outside the schema, which is ignored as extra CSV columns are. The reader
        // hands out names interned in its dictionary, so the same name is the same pointer: a
        // record's eight names cost eight small lookups, not eight strings normalised and renamed.
        var fieldIndexes: [RecordKind: [UnsafePointer<xmlChar>: Int]] = [:]
        func fieldIndex(_ kind: RecordKind) -> Int {
            guard let interned = xmlTextReaderConstLocalName(reader) else { return -1 }
            if let known = fieldIndexes[kind]?[interned] { return known }
            let index = kind.fields.firstIndex(of: mapping.canonicalName(String(cString: interned))) ?? -1
            fieldIndexes[kind, default: [:]][interned] = index
            return index
        }

        var sawRoot = false
        var section: RecordKind? = nil
        var record: XMLRecord? = nil
        /// The child element being read: its schema position (-1: outside the schema).
        var field: Int? = nil
        var fieldText = ""

        while true {
            let status = xmlTextReaderRead(reader)
            if status == 0 { break }
            if status < 0 {
                // The bytes were refused before libxml2 saw them (too many attributes, a read error).
                if let refused = feed.failure { throw XMLReadError(line: markup.line, reason: refused) }
                throw sink.first ?? fail("not well-formed XML")
            }
            let type = xmlTextReaderNodeType(reader)
            let depth = Int(xmlTextReaderDepth(reader))
            switch type {
            case Int32(XML_READER_TYPE_DOCUMENT_TYPE.rawValue):
                throw XMLReadError(line: markup.doctypeLine ?? currentLine(), reason: "a DOCTYPE is not allowed in an export")
            case Int32(XML_READER_TYPE_ENTITY_REFERENCE.rawValue), Int32(XML_READER_TYPE_ENTITY.rawValue):
                throw fail("entity references are not allowed in an export")
            case Int32(XML_READER_TYPE_ELEMENT.rawValue):
                let element = name()
                let empty = xmlTextReaderIsEmptyElement(reader) == 1
                switch depth {
                case 0:
                    sawRoot = true
                case 1:
                    guard let kind = RecordKind.allCases.first(where: { $0.xmlSection == element }) else {
                        throw fail("unexpected element <\(element)> (expected clients, events or transactions)")
                    }
                    onSection(kind)
                    section = empty ? nil : kind
                case 2:
                    guard let kind = section, element == kind.xmlRecord else {
                        throw fail("unexpected element <\(element)> in <\(section?.xmlSection ?? "?")>")
                    }
                    var current = XMLRecord(kind: kind, line: currentLine(),
                                            values: Array(repeating: nil, count: kind.fields.count))
                    while xmlTextReaderMoveToNextAttribute(reader) == 1 {
                        let index = fieldIndex(kind)
                        guard index >= 0 else { continue }
                        if current.values[index] != nil { current.twice = current.twice ?? kind.fields[index] }
                        current.values[index] = value()
                    }
                    _ = xmlTextReaderMoveToElement(reader)
                    if empty { try onRecord(current) } else { record = current }
                case 3:
                    guard let kind = record?.kind else { throw fail("unexpected element <\(element)>") }
                    let index = fieldIndex(kind)
                    // A field given twice (an attribute and a child, or two children) has no one value.
                    if index >= 0, record!.values[index] != nil { record!.twice = record!.twice ?? kind.fields[index] }
                    if empty {
                        if index >= 0 { record!.values[index] = "" }
                    } else {
                        field = index
                        fieldText = ""
                    }
                default:
                    throw fail("element <\(element)> is nested too deep (a field holds text only)")
                }
            case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue):
                guard field != nil, depth == 4 else {
                    if isXMLWhitespace(xmlTextReaderConstValue(reader)) { continue }
                    throw fail("unexpected text outside a field")
                }
                fieldText += value()
                if fieldText.utf8.count > maxFieldBytes { throw fail("a field is longer than 1 MiB") }
            case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
                if depth == 3, let index = field {
                    if index >= 0 { record!.values[index] = fieldText.trimmingWhitespace() }
                    field = nil
                } else if depth == 2, let finished = record {
                    try onRecord(finished)
                    record = nil
                } else if depth == 1 {
                    section = nil
                }
            default:
                continue
            }
        }
        if let error = sink.first { throw error }
        if !sawRoot { throw XMLReadError(line: 1, reason: "the document has no root element") }
    }

    /// Only what XML calls white space (space, tab, CR, LF): the layout between records.
    private static func isXMLWhitespace(_ text: UnsafePointer<xmlChar>?) -> Bool {
        guard var byte = text else { return true }
        while byte.pointee != 0 {
            guard byte.pointee == 0x20 || byte.pointee == 0x09 || byte.pointee == 0x0A || byte.pointee == 0x0D else { return false }
            byte += 1
        }
        return true
    }
}

extension XMLRecord: SourceFields {
    func withField<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        guard var text = values[index] else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        return try text.withUTF8(body)
    }
}
