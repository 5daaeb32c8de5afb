import Foundation
import Testing
@testable import BalanceTestSupport
@testable import BalancePipeline
@testable import BalanceSend
@testable import BalanceOutput
@testable import BalanceRender
@testable import BalanceReport
@testable import BalanceIngest
@testable import BalanceModel
@testable import BalanceSupport

/// Issue 24: XML read through libxml2's SAX2 interface, fields as bytes straight into the columns,
/// and a large document parsed on two cores. Whatever the form of a record (attributes or child
/// elements) and wherever a document is cut, the records must be those of one pass.
@Suite("XML through SAX2, in one pass or two parts")
struct XMLSAXReaderTests {
    static func ingest(_ path: String, splitNear: Int? = nil, options: IngestOptions = IngestOptions()) -> (export: IngestedExport, joined: Bool) {
        var export = IngestedExport()
        export.files.append(InputFile(path: path, format: .xml, kinds: [], records: 0))
        do {
            let source = try InputSource.open(path)
            let joined = Ingestor.readXML(source: source, fileIndex: 0, options: options, workers: 2, splitNear: splitNear, into: &export)
            return (export, joined)
        } catch {
            Issue.record("cannot open \(path): \(error)")
            return (export, false)
        }
    }

    static func expectSame(_ split: IngestedExport, _ whole: IngestedExport, at offset: Int) {
        #expect(split.transactions == whole.transactions, "cut near byte \(offset)")
        #expect(split.clients == whole.clients, "cut near byte \(offset)")
        #expect(split.events == whole.events, "cut near byte \(offset)")
        #expect(split.rejections == whole.rejections, "cut near byte \(offset)")
        #expect(split.fileFailures == whole.fileFailures, "cut near byte \(offset)")
        #expect(split.files == whole.files, "cut near byte \(offset)")
    }

    /// Fields of a transaction in schema order (`nil`: left out).
    typealias Fields = [String?]

    static func transactions(_ count: Int) -> [Fields] {
        let types = ["topup", "charge", "refund", "charge"]
        let stamps = ["2024-03-01T10:00:00+03:00", "2024-03-02 11:00:00", "1709290000", "2024-03-03T00:00:00.250Z"]
        return (0..<count).map { n in
            let type = types[n % types.count]
            return ["t-\(n)",
                    stamps[n % stamps.count],
                    n % 5 == 0 ? "клиент-\(n % 3)" : "c\(n % 7)",
                    type,
                    type == "topup" ? nil : (n % 3 == 0 ? "Compute & Storage" : "Сеть"),
                    n % 41 == 7 ? "12x" : "\(n).\(n % 100)",             // a rejected amount now and then
                    n % 2 == 0 ? "RUB" : nil,
                    n % 4 == 1 ? "R&D <lab> «счёт» \"q\" 'a'" : nil]
        }
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func attributeForm(_ row: Fields) -> String {
        let names = RecordKind.transaction.fields
        return "<transaction" + zip(names, row).compactMap { name, value in value.map { " \(name)=\"\(escaped($0))\"" } }.joined() + "/>"
    }

    static func childForm(_ row: Fields, padded: Bool) -> String {
        let names = RecordKind.transaction.fields
        let pad = padded ? " \t" : ""
        return "<transaction>" + zip(names, row).compactMap { name, value in
            value.map { "<\(name)>\(pad)\(escaped($0))\(pad)</\(name)>" }
        }.joined() + "</transaction>"
    }

    static func document(_ rows: [Fields], form: (Int, Fields) -> String) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<export>\n  <clients>\n"
            + (0..<7).map { "    <client client_id=\"c\($0)\" email=\"c\($0)@x.example\" name=\"Клиент \($0)\"/>\n" }.joined()
            + "    <client client_id=\"клиент-0\" email=\"k@x.example\"/>\n  </clients>\n  <transactions>\n"
            + rows.enumerated().map { "    " + form($0.offset, $0.element) + "\n" }.joined()
            + "  </transactions>\n</export>\n"
    }

    // MARK: attributes and child elements

    @Test("attribute records and child-element records give the same records and the same ledger")
    func attributesAndChildrenSameLedger() throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        // Every 50th record repeated byte for byte further on (a duplicate, counted once).
        let unique = Self.transactions(600)
        let rows = unique + stride(from: 0, to: unique.count, by: 50).map { unique[$0] }
        // One file name in three folders: rejections name the file.
        for form in ["attributes", "children", "mixed"] {
            try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent(form), withIntermediateDirectories: true)
        }
        let attributes = try scratch.write("attributes/export.xml", Self.document(rows) { Self.attributeForm($1) })
        let children = try scratch.write("children/export.xml", Self.document(rows) { Self.childForm($1, padded: true) })
        let mixed = try scratch.write("mixed/export.xml", Self.document(rows) { $0 % 3 == 0 ? Self.childForm($1, padded: false) : Self.attributeForm($1) })
        let reference = Self.ingest(attributes).export
        #expect(reference.transactions.count > 500)
        #expect(reference.rejections.count > 5, "the amounts `12x` are rejected")
        #expect(reference.transactions[1].description == "R&D <lab> «счёт» \"q\" 'a'")
        let referenceLedger = Ledger.build(from: reference)
        #expect(!referenceLedger.duplicates.isEmpty)
        for path in [children, mixed] {
            let export = Self.ingest(path).export
            #expect(export.transactions == reference.transactions, "\(path)")
            #expect(export.rejections == reference.rejections, "\(path)")
            #expect(export.clients == reference.clients)
            let ledger = Ledger.build(from: export)
            // The table is laid out client by client in an order of its own: compared client by client.
            #expect(ledger.table.count == referenceLedger.table.count)
            #expect(ledger.duplicates == referenceLedger.duplicates)
            #expect(ledger.rejections == referenceLedger.rejections)
            #expect(ledger.clients.keys.sorted() == referenceLedger.clients.keys.sorted())
            for (id, client) in referenceLedger.clients {
                #expect(ledger.clients[id].map { Array($0.transactions) } == Array(client.transactions))
            }
        }
    }

    @Test("a `&` in an attribute value, however written, is one `&`; text is never entity-expanded")
    func ampersands() throws {
        let (records, error) = try IngestXMLRecordReaderTests.read("""
            <export><transactions>
              <transaction id="a&amp;b&#38;c&#x26;d&amp;amp;e" description="&lt;&#38;#38;&gt;"><service>x&amp;amp;y</service></transaction>
            </transactions></export>
            """)
        #expect(error == nil)
        #expect(records.first?.values[0] == "a&b&c&d&amp;e")
        #expect(records.first?.values[7] == "<&#38;>")
        #expect(records.first?.values[4] == "x&amp;y")
    }

    @Test("child text is trimmed of Unicode white space exactly as `trimmingWhitespace` trims")
    func trimming() {
        let spaces: [Unicode.Scalar] = (0...0x3000).compactMap { Unicode.Scalar($0) }.filter { $0.properties.isWhitespace }
        #expect(spaces.count >= 25)
        let edges = spaces.map { String($0) } + ["a", "б", "€", "\u{00A1}", "\u{2010}", "\u{3001}", ""]
        for left in edges {
            for right in edges {
                let text = left + " x\u{00A0}y " + right
                let bytes = Array(text.utf8)
                let (start, count) = bytes.withUnsafeBufferPointer { XMLText.trimmed($0.baseAddress!, from: 0, count: $0.count) }
                #expect(String(decoding: bytes[start..<(start + count)], as: UTF8.self) == text.trimmingWhitespace(),
                        "\(Array(left.unicodeScalars)) \(Array(right.unicodeScalars))")
            }
        }
        let blank = Array(" \u{3000}\u{00A0}\t".utf8)
        #expect(blank.withUnsafeBufferPointer { XMLText.trimmed($0.baseAddress!, from: 0, count: $0.count).count } == 0)
    }

    // MARK: two parts

    /// Everything a cut can fall into: comments and CDATA holding a line that starts like a record,
    /// a start tag over several lines, child records, a refused field, a field given twice, events
    /// after the transactions.
    static let awkward = """
        <?xml version="1.0" encoding="UTF-8"?>
        <!-- an export
        <transaction id="not-a-record"/> -->
        <export>
          <clients>
            <client client_id="c1" email="a@b.c" name="R&amp;D"/>
            <client client_id="c2" email="d@e.f"><name>  ООО «Ромашка»  </name></client>
          </clients>
          <transactions>
            <transaction id="t1" timestamp="2024-03-01T10:00:00+03:00" client_id="c1" type="topup" amount="100"/>
            <!--
            <transaction id="in-a-comment" timestamp="2024-03-01T10:00:00+03:00" client_id="c1" type="topup" amount="1"/>
            -->
            <transaction
                id="t2" timestamp="2024-03-02T10:00:00+03:00"
                client_id="c1" type="charge" service="S" amount="1.5"/>
            <transaction><id>t3</id><timestamp>2024-03-02 11:00:00</timestamp><client_id>c2</client_id><type>charge</type><service>S</service><amount>2</amount><description><![CDATA[x
            <transaction id="in-cdata"/>
        y]]></description></transaction>
            <transaction id="t4" timestamp="2024-03-03T10:00:00+03:00" client_id="c2" type="charge" service="S" amount="abc"/>
            <transaction id="t5" timestamp="2024-03-03T10:00:00+03:00" client_id="c2" type="charge" service="S" amount="3"><amount>4</amount></transaction>
            <transaction id="t6" timestamp="2024-03-04T10:00:00+03:00" client_id="c1" type="refund" service="S" amount="0.25"/>

            <transaction id="t7" timestamp="2024-03-05T10:00:00+03:00" client_id="c3" type="charge" service="S" amount="5"/>
          </transactions>
          <clients note="a section with an attribute"><client client_id="c9" email="z@z.z"/></clients>
          <events>
            <event client_id="c1" timestamp="2024-03-01 00:00:00" type="confirmed"/>
          </events>
        </export>

        """

    @Test("cut at every byte of a document with comments, CDATA, child records and bad records: the same as one pass")
    func everyCut() throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let path = try scratch.write("export.xml", Self.awkward)
        let (whole, wholeJoined) = Self.ingest(path)
        #expect(!wholeJoined)
        #expect(whole.transactions.map(\.id) == ["t1", "t2", "t3", "t6", "t7"])
        #expect(whole.rejections.map(\.recordID) == ["t4", "t5"])
        #expect(whole.clients.map(\.name) == ["R&D", "ООО «Ромашка»", ""])
        #expect(whole.events.count == 1)
        #expect(whole.files[0].records == 11)
        #expect(whole.files[0].kinds == [.transaction, .client, .event])
        #expect(whole.transactions.map(\.source.line) == [10, 16, 17, 22, 24])
        var joined = 0
        for offset in 0..<Self.awkward.utf8.count {
            let (split, wasJoined) = Self.ingest(path, splitNear: offset)
            if wasJoined { joined += 1 }
            Self.expectSame(split, whole, at: offset)
        }
        // Most cuts land on a record's line and are read in two parts; those in the comment, the
        // CDATA section or the last lines are read in one.
        #expect(joined > Self.awkward.utf8.count / 3, "read in two parts \(joined) times")
    }

    /// A second part that fails is thrown away and the rest read again in order: libxml2's messages
    /// name lines of their own ("tag mismatch: x line 4"), which a part numbers from its cut.
    @Test("a document broken after the cut is rejected whole, with the same line, message and records as one pass",
          arguments: ["</export>\n<export/>\n", "", "<transaction id=\"x\"></export>\n", "<payments/></export>\n"])
    func brokenInTheSecondPart(_ ending: String) throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        var text = "<export>\n<transactions>\n"
        for index in 0..<40 {
            text += "<transaction id=\"t\(index)\" timestamp=\"2024-03-01T10:00:00Z\" client_id=\"c1\" type=\"topup\" amount=\"1\"/>\n"
        }
        text += "</transactions>\n" + ending
        let path = try scratch.write("late.xml", text)
        let whole = Self.ingest(path).export
        #expect(whole.transactions.isEmpty)
        #expect(whole.rejections.filter { !$0.isRecord }.count == 1)
        var joined = 0
        for offset in stride(from: 0, to: text.utf8.count, by: 13) {
            let (split, wasJoined) = Self.ingest(path, splitNear: offset)
            if wasJoined { joined += 1 }
            Self.expectSame(split, whole, at: offset)
        }
        #expect(joined == 0)
    }

    @Test("too many attributes after the cut: refused with the same line as one pass")
    func attributeCapInTheSecondPart() throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        var text = "<export>\n<transactions>\n"
        for index in 0..<30 { text += "<transaction id=\"t\(index)\" amount=\"1\"/>\n" }
        text += "<transaction " + (0...XMLRecordReader.maxAttributes).map { "a\($0)=\"1\"" }.joined(separator: " ") + "/>\n"
        text += "</transactions>\n</export>\n"
        let path = try scratch.write("many.xml", text)
        let whole = Self.ingest(path).export
        // The records before the refused tag are read (then rejected with the document), however
        // the bytes were chunked.
        #expect(whole.files[0].records == 30)
        let error = try #require(whole.rejections.last)
        #expect(!error.isRecord)
        #expect(error.reason == "an element has more than \(XMLRecordReader.maxAttributes) attributes")
        #expect(error.source.line == 33)
        for offset in stride(from: 0, to: text.utf8.count, by: 17) {
            Self.expectSame(Self.ingest(path, splitNear: offset).export, whole, at: offset)
        }
    }

    @Test("a root with attributes or a namespace, or a document not in UTF-8, is read in one pass", arguments: [
        "<export version=\"2\">", "<x:export xmlns:x=\"urn:x\">", "<export xmlns=\"urn:x\">",
    ])
    func notCutWhenTheRootIsNotPlain(_ root: String) throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let close = root.hasPrefix("<x:") ? "</x:export>" : "</export>"
        var text = root + "\n<transactions>\n"
        for index in 0..<30 {
            text += "<transaction id=\"t\(index)\" timestamp=\"2024-03-01T10:00:00Z\" client_id=\"c1\" type=\"topup\" amount=\"1\"/>\n"
        }
        text += "</transactions>\n" + close + "\n"
        let path = try scratch.write("root.xml", text)
        let whole = Self.ingest(path).export
        #expect(whole.transactions.count == 30)
        for offset in stride(from: 0, to: text.utf8.count, by: 11) {
            let (split, joined) = Self.ingest(path, splitNear: offset)
            #expect(!joined)
            Self.expectSame(split, whole, at: offset)
        }
    }

    @Test("a Windows-1251 document is never cut (the part after a cut would be read as UTF-8)")
    func notCutInAnotherEncoding() throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        var text = "<?xml version=\"1.0\" encoding=\"windows-1251\"?>\n<export>\n<clients>\n"
        for index in 0..<30 { text += "<client client_id=\"c\(index)\" email=\"a@b.c\" name=\"Ромашка \(index)\"/>\n" }
        text += "</clients>\n</export>\n"
        let bytes = Array(text.unicodeScalars.map { scalar -> UInt8 in
            switch scalar.value {
            case 0x410...0x44F: return UInt8(scalar.value - 0x410 + 0xC0)
            default: return UInt8(scalar.value)
            }
        })
        let path = try scratch.write("cp1251.xml", bytes: bytes)
        let whole = Self.ingest(path).export
        #expect(whole.clients.first?.name == "Ромашка 0")
        for offset in stride(from: 0, to: bytes.count, by: 29) {
            let (split, joined) = Self.ingest(path, splitNear: offset)
            #expect(!joined)
            Self.expectSame(split, whole, at: offset)
        }
    }

    // MARK: the markup guard

    /// The guard as it was before issue 24, a byte at a time: the reference the faster one must match.
    struct ReferenceGuard {
        let maxAttributes: Int
        var line = 1
        var doctypeLine: Int? = nil
        enum State { case text, open, tag, quoted(UInt8), bang(Int), comment, cdata, instruction, declaration }
        var state = State.text
        var attributes = 0
        var last: (UInt8, UInt8) = (0, 0)
        var bang: [UInt8] = []

        mutating func scan(_ bytes: [UInt8]) -> String? {
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

    @Test("the markup guard counts lines, attributes and the DOCTYPE line as the byte-wise guard did, however the bytes are chunked")
    func markupGuardMatchesReference() {
        var random = SystemRandomNumberGenerator()
        let pieces = ["<", ">", "/>", "\"", "'", "=", "\n", " ", "a", "<!--", "-->", "--", "<![CDATA[", "]]>", "]]", "<?", "?>",
                      "<!DOCTYPE x>", "<!D", "<!", "<t a=\"1\" b='2'>", "<t\na=\"x\ny\"\n/>", "&amp;", "b=c"]
        for round in 0..<400 {
            let text = (0..<Int.random(in: 1...60, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            let bytes = Array(text.utf8)
            let cap = Int.random(in: 1...4, using: &random)
            var reference = ReferenceGuard(maxAttributes: cap)
            let expected = reference.scan(bytes)
            var scanner = XMLMarkupGuard(maxAttributes: cap)
            var got: String? = nil
            var index = 0
            while index < bytes.count && got == nil {
                let size = round % 2 == 0 ? Int.random(in: 1...9, using: &random) : Int.random(in: 8...200, using: &random)
                let chunk = Array(bytes[index..<min(bytes.count, index + size)])
                got = chunk.withUnsafeBufferPointer { scanner.scan($0) }
                index += size
            }
            #expect(got == expected, "round \(round): \(text.debugDescription)")
            if got == nil {
                #expect(scanner.line == reference.line, "round \(round): \(text.debugDescription)")
                #expect(scanner.doctypeLine == reference.doctypeLine, "round \(round): \(text.debugDescription)")
            }
        }
    }
}

extension XMLSAXReaderTests {
    @Test("the field counts the SAX reader uses are the schema's")
    func fieldCounts() {
        for kind in RecordKind.allCases {
            #expect(kind.fieldCount == kind.fields.count)
            #expect("\(kind.xmlRecordName)" == kind.xmlRecord)
        }
    }

    @Test("a document of endless distinct attribute names is read in linear time")
    func manyDistinctNames() throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        var text = "<export><transactions>\n"
        for index in 0..<20_000 { text += "<transaction id=\"t\(index)\" x\(index)=\"1\"/>\n" }
        text += "</transactions></export>\n"
        let path = try scratch.write("names.xml", text)
        let clock = ContinuousClock()
        let start = clock.now
        var count = 0
        try XMLRecordReader.read(path: path, mapping: HeaderMapping()) { _ in count += 1 }
        #expect(count == 20_000)
        #expect(clock.now - start < .seconds(5))
    }
}

extension XMLSAXReaderTests {
    @Test("an error libxml2 would read on from (an undeclared namespace prefix) ends the records there")
    func namespaceErrorStopsRecords() throws {
        let (records, error) = try IngestXMLRecordReaderTests.read("""
            <export><transactions>
              <transaction id="t1"/>
              <x:transaction id="t2"/>
              <transaction id="t3"/>
            </transactions></export>
            """)
        #expect(records.map { $0.values[0] } == ["t1"])
        let readError = try #require(error as? XMLReadError)
        #expect(readError.reason.hasPrefix("not well-formed XML: "), "\(readError.reason)")
        #expect(readError.line == 3)
    }
}

extension XMLSAXReaderTests {
    @Test("mutated documents (bytes replaced, removed, repeated) read the same in two parts as in one")
    func mutatedDocumentsCutAnywhere() throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        var random = ModelSplitMix64(seed: 24)
        let base = Array(Self.awkward.utf8)
        let noise = Array("<>/\"'=&;![]-?\n x".utf8) + [0xD0, 0x80, 0xFF]
        var joined = 0
        for round in 0..<150 {
            var bytes = base
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[at] = noise.randomElement(using: &random)!
                case 1: bytes.remove(at: at)
                default:
                    let end = min(bytes.count, at + Int.random(in: 1...80, using: &random))
                    bytes.insert(contentsOf: bytes[at..<end], at: at)
                }
            }
            let path = try scratch.write("mutated-\(round).xml", bytes: bytes)
            let whole = Self.ingest(path).export
            for _ in 0..<8 {
                let offset = Int.random(in: 0..<bytes.count, using: &random)
                let (split, wasJoined) = Self.ingest(path, splitNear: offset)
                if wasJoined { joined += 1 }
                Self.expectSame(split, whole, at: offset)
            }
        }
        // Most mutated documents are broken, and then read again in order.
        #expect(joined > 50, "read in two parts \(joined) times")
    }
}
