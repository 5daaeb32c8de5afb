internal import CLibXML2
import BalanceModel
import BalanceSupport
import Glibc

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
