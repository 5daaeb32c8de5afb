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

/// HOSTILE-CHECKLIST #12, the property half (the payload table and the rendered pages are in
/// `Render/`): over random text full of markup, escaping never adds an element, an attribute end
/// or an entity of its own, and decoding the five entities gives the input back exactly.
@Suite("Property: HTML escaping")
struct HTMLEscapingPropertyTests {
    static let alphabet: [String] = ["<", ">", "&", "\"", "'", "a", "Я", "=", "/", " ", "\n", "&amp;", "&lt;", "<script>", "</td>",
                                     "\" onmouseover=\"", "' x='", "<!--", "-->", "<![CDATA[", "&#60;", "\u{0}", "😀", ";", "#"]

    static func decode(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        let entities = ["&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": "\"", "&#39;": "'"]
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            let tail = rest[amp...]
            guard let (entity, character) = entities.first(where: { tail.hasPrefix($0.key) }) else {
                Issue.record("a bare & in escaped text: \(text.debugDescription)")
                return result
            }
            result += character
            rest = tail.dropFirst(entity.count)
        }
        return result + rest
    }

    @Test("escaped text has no markup characters and decodes to the input", arguments: [UInt64(1), 2, 3, 4])
    func escapingIsStructureFree(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for _ in 0..<2_000 {
            let input = (0..<Int(random.next() % 12)).map { _ in Self.alphabet[Int(random.next() % UInt64(Self.alphabet.count))] }.joined()
            let escaped = Escaping.html(input)
            #expect(!escaped.contains("<") && !escaped.contains(">") && !escaped.contains("\"") && !escaped.contains("'"), "\(input.debugDescription)")
            #expect(Self.decode(escaped) == input)
            // Inside a template: the element count of the page is the template's, whatever the data.
            let page = "<td title=\"" + escaped + "\">" + escaped + "</td>"
            #expect(page.filter { $0 == "<" }.count == 2 && page.filter { $0 == "\"" }.count == 2)
        }
    }
}
