import Testing

/// HOSTILE-CHECKLIST #6–#11: the hostile XML corpus (`Fixtures/hostile/`) and what each document must be refused for.
enum HostileXML {
    struct Sample: Sendable, CustomTestStringConvertible {
        var file: String
        /// Parts of the expected error reason; any one of them will do.
        var reasons: [String]
        /// Whether the problem precedes every record (a DOCTYPE), so no record may be delivered at all.
        var beforeAnyRecord: Bool
        var testDescription: String { file }
    }

    static let corpus: [Sample] = [
        Sample(file: "xxe-file.xml", reasons: ["DOCTYPE"], beforeAnyRecord: true),
        // libxml2 itself stops the expansion while it reads the DTD, before the reader sees the DOCTYPE.
        Sample(file: "billion-laughs.xml", reasons: ["DOCTYPE", "entity reference loop"], beforeAnyRecord: true),
        Sample(file: "quadratic-blowup.xml", reasons: ["DOCTYPE"], beforeAnyRecord: true),
        Sample(file: "external-dtd.xml", reasons: ["DOCTYPE"], beforeAnyRecord: true),
        Sample(file: "parameter-entity.xml", reasons: ["DOCTYPE"], beforeAnyRecord: true),
        Sample(file: "deep-nesting.xml", reasons: ["nested too deep"], beforeAnyRecord: true),
        Sample(file: "unclosed-tag.xml", reasons: ["not well-formed"], beforeAnyRecord: false),
        Sample(file: "bad-nesting.xml", reasons: ["not well-formed"], beforeAnyRecord: false),
        Sample(file: "two-roots.xml", reasons: ["not well-formed"], beforeAnyRecord: false),
        Sample(file: "truncated.xml", reasons: ["not well-formed"], beforeAnyRecord: false),
        Sample(file: "invalid-utf8.xml", reasons: ["not well-formed"], beforeAnyRecord: false),
        Sample(file: "unknown-section.xml", reasons: ["unexpected element <payments>"], beforeAnyRecord: false),
    ]
}
