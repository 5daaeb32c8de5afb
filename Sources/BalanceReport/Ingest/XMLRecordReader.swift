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

    private final class ErrorSink {
        var first: XMLReadError?
    }

    /// Reads every record of the file. Throws at the first problem: a document that is not
    /// well-formed is rejected whole, never read in part.
    public static func read(path: String, mapping: HeaderMapping, onRecord: (XMLRecord) throws -> Void) throws {
        guard let reader = xmlReaderForFile(path, nil, parserOptions) else {
            throw XMLReadError(line: 0, reason: "cannot open as XML")
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
                throw sink.first ?? fail("not well-formed XML")
            }
            let type = xmlTextReaderNodeType(reader)
            let depth = Int(xmlTextReaderDepth(reader))
            switch type {
            case Int32(XML_READER_TYPE_DOCUMENT_TYPE.rawValue):
                throw fail("a DOCTYPE is not allowed in an export")
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
                    section = empty ? nil : kind
                case 2:
                    guard let kind = section, element == kind.xmlRecord else {
                        throw fail("unexpected element <\(element)> in <\(section?.xmlSection ?? "?")>")
                    }
                    var current = XMLRecord(kind: kind, line: currentLine(),
                                            values: Array(repeating: nil, count: kind.fields.count))
                    while xmlTextReaderMoveToNextAttribute(reader) == 1 {
                        let index = fieldIndex(kind)
                        if index >= 0 { current.values[index] = value() }
                    }
                    _ = xmlTextReaderMoveToElement(reader)
                    if empty { try onRecord(current) } else { record = current }
                case 3:
                    guard let kind = record?.kind else { throw fail("unexpected element <\(element)>") }
                    let index = fieldIndex(kind)
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
