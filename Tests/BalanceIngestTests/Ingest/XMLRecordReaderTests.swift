import CLibXML2
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

/// HOSTILE-CHECKLIST #6–#11: the libxml2 streaming reader reads fields and refuses hostile documents.
@Suite("XMLRecordReader")
struct IngestXMLRecordReaderTests {
    /// Reads a document, returning the records delivered before any error and the error.
    static func read(path: String, mapping: HeaderMapping = HeaderMapping()) -> (records: [XMLRecord], error: Error?) {
        var records: [XMLRecord] = []
        do {
            try XMLRecordReader.read(path: path, mapping: mapping) { records.append($0) }
            return (records, nil)
        } catch {
            return (records, error)
        }
    }

    static func read(_ text: String, mapping: HeaderMapping = HeaderMapping()) throws -> (records: [XMLRecord], error: Error?) {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        return read(path: try scratch.write("export.xml", text), mapping: mapping)
    }

    static func value(_ record: XMLRecord, _ field: String) -> String? {
        guard let index = record.kind.fields.firstIndex(of: field) else { return nil }
        return record.values[index]
    }

    // MARK: reading

    @Test("fields are read from attributes and from child elements alike")
    func attributesAndChildren() throws {
        let (records, error) = try Self.read("""
            <?xml version="1.0" encoding="UTF-8"?>
            <export>
              <transactions>
                <transaction id="t1" timestamp="2024-03-01T10:00:00+03:00" client_id="c1" type="topup" amount="100.00"/>
                <transaction id="t2">
                  <timestamp>2024-03-02 11:00:00</timestamp>
                  <client_id>  c2  </client_id>
                  <type>charge</type>
                  <service>Compute</service>
                  <amount>12.345678</amount>
                  <unknown_field>ignored</unknown_field>
                </transaction>
                <transaction id="t3" client_id="c3"><amount>1</amount><service/></transaction>
              </transactions>
            </export>
            """)
        #expect(error == nil)
        try #require(records.count == 3)
        #expect(records.allSatisfy { $0.kind == .transaction })
        #expect(records[0].values == ["t1", "2024-03-01T10:00:00+03:00", "c1", "topup", nil, "100.00", nil, nil])
        #expect(records[1].values == ["t2", "2024-03-02 11:00:00", "c2", "charge", "Compute", "12.345678", nil, nil])
        #expect(Self.value(records[2], "service") == "")
        #expect(Self.value(records[2], "amount") == "1")
        #expect(Self.value(records[2], "timestamp") == nil)
    }

    @Test("all three sections in one document, in any order")
    func allSections() throws {
        let (records, error) = try Self.read("""
            <export>
              <events><event client_id="c1" timestamp="2024-03-01 00:00:00" type="confirmed"/></events>
              <clients><client client_id="c1" email="a@b.c"><name>ООО «Ромашка»</name></client></clients>
              <transactions/>
              <transactions><transaction id="t1"/></transactions>
              <clients/>
            </export>
            """)
        #expect(error == nil)
        #expect(records.map(\.kind) == [.event, .client, .transaction])
        #expect(Self.value(records[1], "name") == "ООО «Ромашка»")
        #expect(Self.value(records[0], "type") == "confirmed")
    }

    @Test("CDATA sections are text, mixed with ordinary text")
    func cdata() throws {
        let (records, error) = try Self.read("""
            <export><transactions>
              <transaction id="t1"><description><![CDATA[a <b> & "c" ]]]]><![CDATA[>]]></description></transaction>
              <transaction id="t2"><description>x<![CDATA[<y>]]>z</description></transaction>
            </transactions></export>
            """)
        #expect(error == nil)
        #expect(records.map { Self.value($0, "description") } == ["a <b> & \"c\" ]]>", "x<y>z"])
    }

    @Test("predefined entities and character references are decoded")
    func characterReferences() throws {
        let (records, error) = try Self.read("""
            <export><clients>
              <client client_id="c&amp;1" email="x@y.z" name="R&amp;D &#x20AC; &#8364; &lt;&gt;&quot;&apos;">
                <phone>+7&#160;(495)&#xA0;000</phone>
                <partner_id>A &amp; B &#1041;&#x416;</partner_id>
              </client>
            </clients></export>
            """)
        #expect(error == nil)
        try #require(records.count == 1)
        #expect(Self.value(records[0], "client_id") == "c&1")
        #expect(Self.value(records[0], "name") == "R&D € € <>\"'")
        #expect(Self.value(records[0], "phone") == "+7\u{00A0}(495)\u{00A0}000")
        #expect(Self.value(records[0], "partner_id") == "A & B БЖ")
    }

    @Test("a header mapping renames XML fields as it renames CSV columns")
    func mapping() throws {
        let mapping = HeaderMapping(["Номер": "id", "Сумма": "amount", "Клиент": "client_id"])
        let (records, error) = try Self.read("""
            <export><transactions>
              <transaction Номер="t1" Клиент="c1"><Сумма>10,5</Сумма></transaction>
            </transactions></export>
            """, mapping: mapping)
        #expect(error == nil)
        try #require(records.count == 1)
        #expect(Self.value(records[0], "id") == "t1")
        #expect(Self.value(records[0], "client_id") == "c1")
        #expect(Self.value(records[0], "amount") == "10,5")
    }

    /// The line libxml2 gives a record is the line its start tag ends on (where `>` is): the same
    /// as the line it starts on unless the start tag itself spans lines.
    @Test("each record carries the line of its start tag, also deep into a large document")
    func recordLines() throws {
        var text = "<?xml version=\"1.0\"?>\n<export>\n  <transactions>\n"
        var expected: [Int] = []
        var line = 4
        for index in 0..<3_000 {
            expected.append(line)
            if index % 3 == 0 {
                text += "    <transaction id=\"t\(index)\" amount=\"1\"/>\n"
                line += 1
            } else if index % 3 == 1 {
                text += "    <transaction\n        id=\"t\(index)\">\n      <amount>2</amount>\n    </transaction>\n"
                expected[expected.count - 1] += 1
                line += 4
            } else {
                text += "    <transaction id=\"t\(index)\"><description>a\nb\nc</description></transaction>\n\n"
                line += 4
            }
        }
        text += "  </transactions>\n</export>\n"
        let (records, error) = try Self.read(text)
        #expect(error == nil)
        #expect(records.count == 3_000)
        let lines = records.map(\.line)
        let firstWrong = zip(lines, expected).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(firstWrong == nil, "record \(firstWrong?.offset ?? -1) is on line \(firstWrong?.element.1 ?? -1), reported \(firstWrong?.element.0 ?? -1)")
        #expect(records.map { Self.value($0, "id") } == (0..<3_000).map { "t\($0)" })
    }

    @Test("beyond line 65 535 record lines are approximate but never before the record")
    func recordLinesBeyondLibxmlNodeLimit() throws {
        // libxml2 2.9 keeps a node's line in 16 bits; past that only the parser's position is known.
        var text = "<export>\n<transactions>\n"
        let count = 70_000
        for index in 0..<count { text += "<transaction id=\"t\(index)\"/>\n" }
        text += "</transactions>\n</export>\n"
        let (records, error) = try Self.read(text)
        #expect(error == nil)
        try #require(records.count == count)
        let exactUpTo = 65_534
        let early = records.prefix(exactUpTo - 2)
        #expect(early.allSatisfy { $0.line == Int(Self.value($0, "id")!.dropFirst())! + 3 })
        let late = records.dropFirst(exactUpTo)
        let offsets = late.map { $0.line - (Int(Self.value($0, "id")!.dropFirst())! + 3) }
        #expect(offsets.allSatisfy { $0 >= 0 && $0 <= 40 }, "max offset \(offsets.max() ?? 0), min \(offsets.min() ?? 0)")
    }

    @Test("the libxml2 options are exactly NONET | NOERROR | NOWARNING")
    func parserOptions() {
        // Documented values of libxml2's xmlParserOption.
        let recover: Int32 = 1, noent: Int32 = 2, dtdload: Int32 = 4, dtdattr: Int32 = 8, dtdvalid: Int32 = 16
        let noerror: Int32 = 32, nowarning: Int32 = 64, nonet: Int32 = 2048, xinclude: Int32 = 1024, huge: Int32 = 524_288
        #expect(XMLRecordReader.parserOptions == nonet | noerror | nowarning)
        #expect(XMLRecordReader.parserOptions == 2_144)
        // The same, through libxml2's own constants.
        #expect(XMLRecordReader.parserOptions == Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue))
        for option in [XML_PARSE_RECOVER, XML_PARSE_NOENT, XML_PARSE_DTDLOAD, XML_PARSE_DTDATTR, XML_PARSE_DTDVALID,
                       XML_PARSE_XINCLUDE, XML_PARSE_HUGE, XML_PARSE_OLD10, XML_PARSE_OLDSAX, XML_PARSE_IGNORE_ENC] {
            #expect(UInt32(bitPattern: XMLRecordReader.parserOptions) & option.rawValue == 0, "option \(option.rawValue) is set")
        }
        #expect([recover, noent, dtdload, dtdattr, dtdvalid, xinclude, huge].map { UInt32($0) }
                == [XML_PARSE_RECOVER, XML_PARSE_NOENT, XML_PARSE_DTDLOAD, XML_PARSE_DTDATTR, XML_PARSE_DTDVALID,
                    XML_PARSE_XINCLUDE, XML_PARSE_HUGE].map(\.rawValue))
        for forbidden in [recover, noent, dtdload, dtdattr, dtdvalid, xinclude, huge] {
            #expect(XMLRecordReader.parserOptions & forbidden == 0, "option bit \(forbidden) is set")
        }
    }

    @Test("an 11 MB text node is refused, no crash")
    func hugeTextNode() throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        var bytes = Array("<export><transactions><transaction id=\"t1\"><description>".utf8)
        bytes += Array(repeating: UInt8(ascii: "x"), count: 11_000_000)
        bytes += Array("</description></transaction></transactions></export>".utf8)
        let (records, error) = Self.read(path: try scratch.write("huge.xml", bytes: bytes))
        #expect(records.isEmpty)
        #expect(error is XMLReadError)
    }

    @Test("text where no field is, and a record outside its section, are errors", arguments: [
        "<export>stray text</export>",
        "<export><transactions>text<transaction id=\"1\"/></transactions></export>",
        "<export><transactions><transaction id=\"1\">loose</transaction></transactions></export>",
        "<export><transactions><client client_id=\"c\"/></transactions></export>",
        "<export><transactions><transaction><amount><b>1</b></amount></transaction></transactions></export>",
    ])
    func structureErrors(_ text: String) throws {
        let (_, error) = try Self.read(text)
        #expect(error is XMLReadError)
    }

    @Test("an empty document and an unreadable path are errors")
    func emptyAndMissing() throws {
        var (records, error) = try Self.read("")
        #expect(records.isEmpty)
        #expect(error is XMLReadError)
        (records, error) = Self.read(path: "/nonexistent/balance-report/export.xml")
        #expect(records.isEmpty)
        #expect(error is XMLReadError)
    }

    // MARK: the hostile corpus

    typealias Hostile = HostileXML.Sample
    static let hostile = HostileXML.corpus

    @Test("the hostile corpus is complete")
    func hostileCorpusComplete() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: try IngestFixtures.root.appendingPathComponent("hostile").path)
        #expect(names.filter { $0.hasSuffix(".xml") }.sorted() == Self.hostile.map(\.file).sorted())
    }

    @Test("each hostile document is refused quickly with a clear error", arguments: hostile)
    func hostileRejected(_ sample: Hostile) throws {
        let path = try IngestFixtures.path("hostile/" + sample.file)
        let clock = ContinuousClock()
        let start = clock.now
        let (records, error) = Self.read(path: path)
        let elapsed = clock.now - start
        let readError = try #require(error as? XMLReadError, "expected an XMLReadError, got \(String(describing: error))")
        #expect(sample.reasons.contains { readError.reason.contains($0) }, "reason was: \(readError.reason)")
        #expect(readError.line >= 1)
        #expect(elapsed < .seconds(1), "took \(elapsed)")
        if sample.beforeAnyRecord {
            #expect(records.isEmpty, "records were delivered: \(records.map(\.values))")
        }
        if sample.file == "xxe-file.xml" {
            // The exact message: nothing read from /etc/hostname can be in it.
            #expect(readError.reason == "a DOCTYPE is not allowed in an export")
        }
    }

    @Test("a hostile document yields no accepted record through the Ingestor", arguments: hostile)
    func hostileThroughIngestor(_ sample: Hostile) throws {
        let path = try IngestFixtures.path("hostile/" + sample.file)
        let export = Ingestor.ingest(paths: [path], options: IngestOptions())
        #expect(export.transactions.isEmpty)
        #expect(export.clients.isEmpty)
        #expect(export.events.isEmpty)
        #expect(export.files.map(\.format) == [.xml])
        // Refused before its first record: the file stops the run. After it: every record it held
        // is rejected with the document, each one counted, and the error is a rejection of its own.
        let recordLevel = export.rejections.filter(\.isRecord)
        let reasons = export.fileFailures.map(\.reason) + export.rejections.filter { !$0.isRecord }.map(\.reason)
        try #require(reasons.count == 1, "\(export.rejections) \(export.fileFailures)")
        #expect(sample.reasons.contains { reasons[0].contains($0) }, "reason was: \(reasons[0])")
        #expect(export.fileFailures.isEmpty == (export.files[0].records > 0))
        #expect(recordLevel.allSatisfy { $0.reason.contains("in a document that is rejected") })
        #expect(recordLevel.count == export.files[0].records)
    }

    @Test("records read before a late error are rejected with the document, each one")
    func lateErrorRejectsEveryRecordRead() throws {
        // Large enough that libxml2 hands out the first records long before it meets the error.
        var text = "<export>\n<transactions>\n"
        for index in 0..<2_000 {
            text += "<transaction id=\"t\(index)\" timestamp=\"2024-03-01T10:00:00Z\" client_id=\"c1\" type=\"topup\" amount=\"1\"/>\n"
        }
        text += "</transactions>\n</export>\n<export/>\n"
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let path = try scratch.write("late.xml", text)
        let (records, error) = Self.read(path: path)
        #expect(records.count > 1_000, "the reader should have streamed most records before the error")
        #expect((error as? XMLReadError)?.line == 2_005)
        let export = Ingestor.ingest(paths: [path], options: IngestOptions())
        #expect(export.transactions.isEmpty)
        #expect(export.files[0].records == records.count)
        let recordLevel = export.rejections.filter(\.isRecord)
        #expect(recordLevel.count == records.count)
        #expect(recordLevel.map(\.recordID) == records.map { Self.value($0, "id") ?? "?" })
        #expect(recordLevel.map(\.source.line) == records.map { Int32($0.line) })
        #expect(recordLevel.allSatisfy { $0.reason.hasPrefix("in a document that is rejected (line 2005: not well-formed XML") })
        #expect(export.rejections.filter { !$0.isRecord }.map(\.source.line) == [2_005])
    }

    @Test("XXE: the entity target's content appears nowhere (generated secret file)")
    func xxeSecretNeverRead() throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let secret = "SECRET-" + UUID().uuidString
        let secretPath = try scratch.write("secret.txt", secret)
        let variants = [
            // General external entity in element content and in an attribute value.
            """
            <?xml version="1.0"?>
            <!DOCTYPE export [<!ENTITY x SYSTEM "file://\(secretPath)">]>
            <export><transactions><transaction id="t1" description="&x;"><service>&x;</service></transaction></transactions></export>
            """,
            // Parameter entity pulling the file into the DTD.
            """
            <?xml version="1.0"?>
            <!DOCTYPE export [<!ENTITY % p SYSTEM "file://\(secretPath)"> %p;]>
            <export><transactions><transaction id="t1"/></transactions></export>
            """,
            // External DTD that is the secret file itself.
            """
            <?xml version="1.0"?>
            <!DOCTYPE export SYSTEM "file://\(secretPath)">
            <export><transactions><transaction id="t1"/></transactions></export>
            """,
        ]
        for (index, text) in variants.enumerated() {
            let path = try scratch.write("xxe\(index).xml", text)
            let (records, error) = Self.read(path: path)
            #expect(records.isEmpty)
            let readError = try #require(error as? XMLReadError)
            // Either the reader meets the DOCTYPE node first, or libxml2 already refused the external
            // entity while parsing ahead (an entity in an attribute value is checked at once).
            #expect(readError.reason.contains("DOCTYPE") || readError.reason.contains("external entity"), "\(readError.reason)")
            #expect(!readError.reason.contains(secret))
            let export = Ingestor.ingest(paths: [path], options: IngestOptions())
            #expect(export.transactions.isEmpty)
            for rejection in export.rejections {
                #expect(!rejection.reason.contains(secret) && !rejection.recordID.contains(secret))
            }
        }
    }

    @Test("a DOCTYPE without any entity is refused too (exports never need one)")
    func plainDoctype() throws {
        let (records, error) = try Self.read("<?xml version=\"1.0\"?>\n<!DOCTYPE export>\n<export><transactions><transaction id=\"t1\"/></transactions></export>")
        #expect(records.isEmpty)
        #expect((error as? XMLReadError)?.reason.contains("DOCTYPE") == true)
        // A DTD node carries no line in libxml2: the parser's position stands in (here the end of this 3-line document).
        #expect((2...3).contains((error as? XMLReadError)?.line ?? 0))
    }
}
