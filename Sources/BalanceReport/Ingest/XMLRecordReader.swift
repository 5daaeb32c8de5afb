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

/// Looks at an XML document's bytes before libxml2 does: counts the attributes of each start
/// tag (refusing more than `maxAttributes`), and notes the line of a DOCTYPE. It only needs to
/// tell markup from text, quoted values, comments, CDATA and processing instructions.
struct XMLMarkupGuard {
    let maxAttributes: Int
    private(set) var line = 1
    private(set) var doctypeLine: Int? = nil
    /// Where in the bytes last scanned the document was refused: the bytes before it may still
    /// be parsed, so that the records before the refused tag are read whatever the chunks were.
    private(set) var refusedAt = 0
    private enum State { case text, open, tag, quoted(UInt8), bang(Int), comment, cdata, instruction, declaration }
    private var state = State.text
    private var attributes = 0
    /// The last bytes seen, for the ends of comments (`-->`), CDATA (`]]>`) and instructions (`?>`).
    private var last: (UInt8, UInt8) = (0, 0)
    private var bang: [UInt8] = []

    init(maxAttributes: Int) { self.maxAttributes = maxAttributes }

    /// Between markup: where a document may be cut and read on from (see `XMLSplit`).
    var isInText: Bool {
        if case .text = state { return true }
        return false
    }

    /// Scans the next bytes; returns the reason to refuse the document, if any.
    mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard let base = bytes.baseAddress else { return nil }
        var index = 0
        let count = bytes.count
        while index < count {
            // Text, start tags and quoted values are nearly all of an export, and run in locals
            // here (the state is written back when the loop stops): text and quoted values skip to
            // the byte that ends them (`find`), a start tag goes a byte at a time (its names are
            // short). Only the rare markup (comments, CDATA, declarations) takes the byte-wise
            // path below; `last` is only read there, and set there.
            var mode: UInt8
            switch state {
            case .text: mode = 0
            case .tag: mode = 1
            case .quoted(let mark): mode = mark
            default: mode = 2
            }
            if mode != 2 {
                var cursor = index
                var lines = 0
                var counted = attributes
                var opened = false
                var refused = false
                scanning: while cursor < count {
                    switch mode {
                    case 0:
                        cursor = Self.find(UInt8(ascii: "<"), base, from: cursor, count: count, lines: &lines)
                        guard cursor < count else { break scanning }
                        cursor += 1
                        opened = true
                        break scanning
                    case 1:
                        let byte = base[cursor]
                        cursor += 1
                        // Letters, digits past `>` and most of a name: nothing to do.
                        if byte > UInt8(ascii: ">") { continue }
                        switch byte {
                        case 0x0A: lines += 1
                        case UInt8(ascii: "\""), UInt8(ascii: "'"): mode = byte
                        case UInt8(ascii: "="):
                            counted += 1
                            if counted > maxAttributes { refused = true; break scanning }
                        case UInt8(ascii: ">"): mode = 0
                        default: break
                        }
                    default:
                        cursor = Self.find(mode, base, from: cursor, count: count, lines: &lines)
                        guard cursor < count else { break scanning }
                        cursor += 1
                        mode = 1
                    }
                }
                line += lines
                attributes = counted
                index = cursor
                if refused {
                    refusedAt = cursor - 1
                    return "an element has more than \(maxAttributes) attributes"
                }
                if opened {
                    state = .open
                    last = (last.1, UInt8(ascii: "<"))
                    continue
                }
                state = mode == 0 ? .text : mode == 1 ? .tag : .quoted(mode)
                return nil
            }
            let byte = base[index]
            index += 1
            if byte == 0x0A { line += 1 }
            switch state {
            case .text, .tag, .quoted:
                break // handled above
            case .open:
                switch byte {
                case UInt8(ascii: "!"): state = .bang(0); bang = []
                case UInt8(ascii: "?"): state = .instruction
                default:
                    attributes = 0
                    state = byte == UInt8(ascii: ">") ? .text : .tag
                }
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

    /// The index of the first `target` from `from` (`count`: none), adding the line feeds before
    /// it to `lines`. Short runs (the blanks between records, most values) are looked at byte by
    /// byte, longer ones with memchr.
    @inline(__always)
    static func find(_ target: UInt8, _ base: UnsafePointer<UInt8>, from start: Int, count: Int, lines: inout Int) -> Int {
        var index = start
        let short = min(count, start + 16)
        while index < short {
            let byte = base[index]
            if byte == target { return index }
            if byte == 0x0A { lines += 1 }
            index += 1
        }
        guard index < count else { return count }
        let end = memchr(base + index, Int32(target), count - index).map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base } ?? count
        var cursor = index
        while cursor < end, let feed = memchr(base + cursor, 0x0A, end - cursor) {
            lines += 1
            cursor = UnsafePointer(feed.assumingMemoryBound(to: UInt8.self)) - base + 1
        }
        return end
    }
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

/// libxml2's SAX2 parser over one document, or over one part of it (`XMLSplit`). The callbacks
/// get element names interned in the parser's dictionary (the same name is the same pointer) and
/// attribute values as pointer ranges: a record costs no node, no `String` and no allocation; its
/// fields are copied into one reusable buffer and handed on as bytes.
///
/// Hostile documents are refused, never expanded: no network (`XML_PARSE_NONET`), no DTD loading
/// and no entity substitution (neither `XML_PARSE_DTDLOAD` nor `XML_PARSE_NOENT` is set, and no
/// entity lookup is installed), and the parser is stopped at a DOCTYPE before its internal subset
/// is read, so not one entity is ever declared.
final class XMLRecordParser {
    let mapping: HeaderMapping
    var markup: XMLMarkupGuard
    /// Added to libxml2's line numbers: the line a part starts on, less one.
    let lineShift: Int
    /// A part starts inside its section (`<root><section>` are written for it): that section was
    /// already announced by the part before, so the first section start is not announced again.
    private var startsInSection: Bool
    var onSection: (RecordKind) -> Void = { _ in }
    var onRecord: (XMLFieldRecord) throws -> Void = { _ in }

    private var ctxt: xmlParserCtxtPtr? = nil
    /// The first problem: ours (structure, a callback's error) or libxml2's.
    private(set) var failure: Error? = nil
    private var sawRoot = false
    /// Open elements: 1 inside the root, 2 inside a section, 3 inside a record, 4 inside a field.
    private var depth = 0
    private(set) var section: RecordKind? = nil
    private var recordKind: RecordKind? = nil
    private var recordLine = 0
    private var twice: Int? = nil
    /// The child element being read: its schema position (-1: outside the schema; nil: none).
    private var field: Int? = nil
    private var fieldStart = 0
    private var fieldBytes = 0
    /// The root and the section element as written, when they are plain (no prefix, attribute or
    /// namespace): what a part after a cut needs to be read alone (`XMLSplit`).
    private(set) var plainRoot: [UInt8]? = nil
    private(set) var plainSection: [UInt8]? = nil

    private var buffer: UnsafeMutablePointer<UInt8>
    private var bufferCapacity = 1 << 12
    private var bufferUsed = 0
    private let spans: UnsafeMutablePointer<XMLFieldSpan>
    /// Schema positions by interned name and kind (-1: outside the schema): the first names met, searched in order (a record's few names are found in a few
    /// compares); any further ones in a dictionary, so that a document of endless distinct names
    /// costs no more than one lookup each.
    private var recentNames: [(name: UnsafeRawPointer, slot: Int, index: Int)] = []
    private var moreNames: [NameKey: Int] = [:]
    private struct NameKey: Hashable {
        var name: UnsafeRawPointer
        var slot: Int
    }
    /// The record element's interned name in the current section, once met.
    private var recordName: UnsafeRawPointer? = nil

    init(mapping: HeaderMapping, lineShift: Int = 0, startsInSection: Bool = false) {
        self.mapping = mapping
        self.lineShift = lineShift
        self.startsInSection = startsInSection
        markup = XMLMarkupGuard(maxAttributes: XMLRecordReader.maxAttributes)
        buffer = .allocate(capacity: bufferCapacity)
        let most = RecordKind.allCases.map { $0.fields.count }.max() ?? 8
        spans = .allocate(capacity: most)
        spans.initialize(repeating: XMLFieldSpan(), count: most)
    }

    deinit {
        if let ctxt { xmlFreeParserCtxt(ctxt) }
        buffer.deallocate()
        spans.deallocate()
    }

    /// The line libxml2 is on (plus the part's shift).
    var line: Int {
        guard let input = ctxt?.pointee.input else { return 1 + lineShift }
        return Int(input.pointee.line) + lineShift
    }

    /// Hands libxml2 the next bytes; `false` once the document has been refused.
    @discardableResult
    func push(_ bytes: UnsafeBufferPointer<UInt8>, last: Bool = false) -> Bool {
        guard failure == nil else { return false }
        if ctxt == nil {
            var handler = XMLRecordParser.handler()
            // The first bytes go in with the context: libxml2 detects the encoding from them.
            let head = min(bytes.count, 4)
            ctxt = xmlCreatePushParserCtxt(&handler, Unmanaged.passUnretained(self).toOpaque(), Self.chars(bytes), Int32(head), nil)
            guard let ctxt else {
                failure = XMLReadError(line: 0, reason: "cannot read as XML")
                return false
            }
            _ = xmlCtxtUseOptions(ctxt, XMLRecordReader.parserOptions)
            return push(UnsafeBufferPointer(rebasing: bytes[head...]), last: last)
        }
        guard let ctxt else { return false }
        _ = xmlParseChunk(ctxt, Self.chars(bytes), Int32(bytes.count), last ? 1 : 0)
        return failure == nil
    }

    /// Ends the document (every byte has been pushed): throws its first problem.
    func finish() throws {
        if failure == nil { push(UnsafeBufferPointer(start: nil, count: 0), last: true) }
        if let failure { throw failure }
        if let ctxt, ctxt.pointee.wellFormed == 0 { throw XMLReadError(line: line, reason: "not well-formed XML") }
        if !sawRoot { throw XMLReadError(line: 1 + lineShift, reason: "the document has no root element") }
    }

    /// Where a part read from here on would start exactly as this parser stands: between two
    /// records of a plain section of a plain root, every byte fed so far parsed except white space,
    /// in UTF-8 and XML 1.0 (`XMLSplit` checks this at its cut).
    var standsBetweenRecords: Bool {
        guard failure == nil, let ctxt, depth == 2, recordKind == nil, plainRoot != nil, plainSection != nil,
              markup.isInText, ctxt.pointee.instate == XML_PARSER_CONTENT, ctxt.pointee.nameNr == 2,
              ctxt.pointee.inputNr == 1, let input = ctxt.pointee.input, ctxt.pointee.wellFormed == 1,
              ctxt.pointee.nsNr == 0 else { return false }
        if let buf = input.pointee.buf, buf.pointee.encoder != nil { return false }
        if let version = ctxt.pointee.version, strcmp(UnsafeRawPointer(version).assumingMemoryBound(to: CChar.self), "1.0") != 0 { return false }
        guard var cursor = input.pointee.cur, let end = input.pointee.end else { return false }
        while cursor < end {
            guard cursor.pointee == 0x20 || cursor.pointee == 0x0A || cursor.pointee == 0x09 || cursor.pointee == 0x0D else { return false }
            cursor += 1
        }
        return true
    }

    private static func chars(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafePointer<CChar>? {
        bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
    }

    // MARK: the callbacks

    private func fail(_ error: Error) {
        guard failure == nil else { return }
        failure = error
        if let ctxt { xmlStopParser(ctxt) }
    }

    private func fail(_ reason: String) {
        fail(XMLReadError(line: line, reason: reason))
    }

    private static func name(_ pointer: UnsafePointer<xmlChar>) -> String {
        String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    }

    private static func equals(_ pointer: UnsafePointer<xmlChar>, _ text: StaticString) -> Bool {
        strcmp(UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self),
               UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)) == 0
    }

    private static func bytes(_ pointer: UnsafePointer<xmlChar>) -> [UInt8] {
        Array(UnsafeBufferPointer(start: pointer, count: strlen(UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))))
    }

    /// The schema position of a field name for `kind`; -1 for a name outside the schema, which is
    /// ignored as an extra CSV column is.
    @inline(__always)
    private func fieldIndex(_ interned: UnsafePointer<xmlChar>, _ kind: RecordKind) -> Int {
        let raw = UnsafeRawPointer(interned)
        let slot = kind.slot
        let found: Int? = recentNames.withUnsafeBufferPointer { entries in
            for entry in entries where entry.name == raw && entry.slot == slot { return entry.index }
            return nil
        }
        if let found { return found }
        if let found = moreNames[NameKey(name: raw, slot: slot)] { return found }
        let index = kind.fields.firstIndex(of: mapping.canonicalName(Self.name(interned))) ?? -1
        if recentNames.count < 64 { recentNames.append((raw, slot, index)) } else { moreNames[NameKey(name: raw, slot: slot)] = index }
        return index
    }

    private func reserve(_ count: Int) {
        guard bufferUsed + count > bufferCapacity else { return }
        var capacity = bufferCapacity
        while bufferUsed + count > capacity { capacity *= 2 }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        grown.update(from: buffer, count: bufferUsed)
        buffer.deallocate()
        buffer = grown
        bufferCapacity = capacity
    }

    private func append(_ start: UnsafePointer<UInt8>, _ count: Int) {
        reserve(count)
        (buffer + bufferUsed).update(from: start, count: count)
        bufferUsed += count
    }

    /// An attribute value as libxml2 hands it over without entity substitution: a `&` of the
    /// document (`&amp;`, `&#38;`) is written `&#38;`, every other character reference and
    /// predefined entity already decoded. Anything else after a `&` would be an entity reference:
    /// `false`.
    private func appendUnescaped(_ start: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        reserve(count)
        var index = 0
        while index < count {
            let byte = start[index]
            if byte == UInt8(ascii: "&") {
                guard index + 5 <= count, start[index + 1] == UInt8(ascii: "#"), start[index + 2] == UInt8(ascii: "3"),
                      start[index + 3] == UInt8(ascii: "8"), start[index + 4] == UInt8(ascii: ";") else { return false }
                index += 5
            } else {
                index += 1
            }
            buffer[bufferUsed] = byte
            bufferUsed += 1
        }
        return true
    }

    private func sectionKind(_ localname: UnsafePointer<xmlChar>) -> RecordKind? {
        if Self.equals(localname, "transactions") { return .transaction }
        if Self.equals(localname, "clients") { return .client }
        if Self.equals(localname, "events") { return .event }
        return nil
    }

    private func startElement(_ localname: UnsafePointer<xmlChar>, _ prefix: UnsafePointer<xmlChar>?, _ namespaces: Int32,
                              _ count: Int32, _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) {
        switch depth {
        case 0:
            sawRoot = true
            if prefix == nil && namespaces == 0 && count == 0 { plainRoot = Self.bytes(localname) }
        case 1:
            guard let kind = sectionKind(localname) else {
                fail("unexpected element <\(Self.name(localname))> (expected clients, events or transactions)")
                return
            }
            if startsInSection { startsInSection = false } else { onSection(kind) }
            section = kind
            recordName = nil
            plainSection = prefix == nil && namespaces == 0 && count == 0 ? Self.bytes(localname) : nil
        case 2:
            guard let kind = section, UnsafeRawPointer(localname) == recordName || Self.equals(localname, kind.xmlRecordName) else {
                fail("unexpected element <\(Self.name(localname))> in <\(section?.xmlSection ?? "?")>")
                return
            }
            recordName = UnsafeRawPointer(localname)
            recordKind = kind
            recordLine = line
            twice = nil
            bufferUsed = 0
            for index in 0..<kind.fieldCount { spans[index] = XMLFieldSpan() }
            if count > 0, let attributes {
                for attribute in 0..<Int(count) {
                    guard let name = attributes[5 * attribute], let value = attributes[5 * attribute + 3],
                          let end = attributes[5 * attribute + 4] else { continue }
                    let index = fieldIndex(name, kind)
                    guard index >= 0 else { continue }
                    if spans[index].length >= 0 && twice == nil { twice = index }
                    let start = bufferUsed
                    if memchr(value, Int32(UInt8(ascii: "&")), end - value) == nil {
                        append(value, end - value)
                    } else if !appendUnescaped(value, end - value) {
                        fail("entity references are not allowed in an export")
                        return
                    }
                    spans[index] = XMLFieldSpan(start: Int32(truncatingIfNeeded: start), length: Int32(truncatingIfNeeded: bufferUsed - start))
                }
            }
        case 3:
            guard let kind = recordKind else { fail("unexpected element <\(Self.name(localname))>"); return }
            let index = fieldIndex(localname, kind)
            // A field given twice (an attribute and a child, or two children) has no one value.
            if index >= 0 && spans[index].length >= 0 && twice == nil { twice = index }
            field = index
            fieldStart = bufferUsed
            fieldBytes = 0
        default:
            fail("element <\(Self.name(localname))> is nested too deep (a field holds text only)")
            return
        }
        depth += 1
    }

    private func endElement() {
        depth -= 1
        switch depth {
        case 3:
            if let index = field, index >= 0 {
                let (start, length) = XMLText.trimmed(buffer, from: fieldStart, count: bufferUsed - fieldStart)
                spans[index] = XMLFieldSpan(start: Int32(truncatingIfNeeded: start), length: Int32(truncatingIfNeeded: length))
            }
            field = nil
        case 2:
            guard let kind = recordKind else { return }
            recordKind = nil
            let record = XMLFieldRecord(kind: kind, line: recordLine, fields: XMLFields(bytes: UnsafePointer(buffer), spans: UnsafePointer(spans)), twice: twice)
            do { try onRecord(record) } catch { fail(error) }
        case 1:
            section = nil
        default:
            break
        }
    }

    private func characters(_ text: UnsafePointer<xmlChar>, _ count: Int) {
        guard depth == 4, field != nil else {
            for offset in 0..<count {
                let byte = text[offset]
                guard byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D else {
                    fail("unexpected text outside a field")
                    return
                }
            }
            return
        }
        fieldBytes += count
        if fieldBytes > XMLRecordReader.maxFieldBytes { fail("a field is longer than 1 MiB"); return }
        if field! >= 0 { append(text, count) }
    }

    private func libxmlError(_ error: UnsafePointer<xmlError>) {
        guard failure == nil, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
        let message = error.pointee.message.map { String(cString: $0) } ?? "XML error"
        failure = XMLReadError(line: Int(error.pointee.line) + lineShift, reason: "not well-formed XML: " + message.trimmingWhitespace())
        // No record after the first error, also after one libxml2 would read on from (a namespace
        // error). The parser is not stopped from inside its error report (it may still hold
        // pointers into its buffer there); no more bytes are pushed once `failure` is set.
        ctxt?.pointee.disableSAX = 1
    }

    private static func with(_ context: UnsafeMutableRawPointer?, _ body: (XMLRecordParser) -> Void) {
        guard let context else { return }
        Unmanaged<XMLRecordParser>.fromOpaque(context)._withUnsafeGuaranteedRef(body)
    }

    /// The callbacks; everything else libxml2 may call stays unset (no entity lookup, no
    /// external subset, no DTD declarations).
    private static func handler() -> xmlSAXHandler {
        var handler = xmlSAXHandler()
        handler.initialized = UInt32(XML_SAX2_MAGIC)
        handler.startElementNs = { context, localname, prefix, _, namespaces, _, count, _, attributes in
            guard let localname else { return }
            XMLRecordParser.with(context) { $0.startElement(localname, prefix, namespaces, count, attributes) }
        }
        handler.endElementNs = { context, _, _, _ in XMLRecordParser.with(context) { $0.endElement() } }
        let characters: charactersSAXFunc = { context, text, count in
            guard let text, count > 0 else { return }
            XMLRecordParser.with(context) { $0.characters(text, Int(count)) }
        }
        handler.characters = characters
        handler.cdataBlock = characters
        // The same function as `characters`: libxml2 then never decides on its own that white
        // space is ignorable.
        handler.ignorableWhitespace = characters
        handler.internalSubset = { context, _, _, _ in
            // Called at `<!DOCTYPE name …`, before the internal subset: stopping here reads none of it.
            XMLRecordParser.with(context) { parser in
                parser.fail(XMLReadError(line: parser.markup.doctypeLine.map { $0 + parser.lineShift } ?? parser.line,
                                         reason: "a DOCTYPE is not allowed in an export"))
            }
        }
        handler.reference = { context, _ in
            XMLRecordParser.with(context) { $0.fail("entity references are not allowed in an export") }
        }
        handler.serror = { context, error in
            guard let error else { return }
            XMLRecordParser.with(context) { $0.libxmlError(error) }
        }
        return handler
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
        case .client: 7
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

extension XMLRecordParser {
    /// Runs `body` with the callbacks set (they need not escape: they are unset before returning).
    func reading(onSection: (RecordKind) -> Void, onRecord: (XMLFieldRecord) throws -> Void, _ body: () throws -> Void) throws {
        try withoutActuallyEscaping(onSection) { onSection in
            try withoutActuallyEscaping(onRecord) { onRecord in
                self.onSection = onSection
                self.onRecord = onRecord
                defer {
                    self.onSection = { _ in }
                    self.onRecord = { _ in }
                }
                try body()
            }
        }
    }
}
