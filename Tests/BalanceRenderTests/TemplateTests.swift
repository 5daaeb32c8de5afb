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

@Suite struct TemplateTests {
    @Test func variablesAreEscapedForHTML() throws {
        #expect(try render("<p title=\"{{x}}\">{{x}}</p>", ["x": .text("\" onmouseover=\"x' <b>&")])
                == "<p title=\"&quot; onmouseover=&quot;x&#39; &lt;b&gt;&amp;\">&quot; onmouseover=&quot;x&#39; &lt;b&gt;&amp;</p>")
    }

    @Test func sectionsIterateRowsAndStandaloneLinesLeaveNoBlankLines() throws {
        let source = """
        a,b
        {{#rows}}
        {{a}},{{b}}
        {{/rows}}
        {{^rows}}
        none
        {{/rows}}
        end

        """
        #expect(try render(source, ["rows": rows([["a": "1", "b": "2"], ["a": "3", "b": "4"]])], .csv(.standard)) == "a,b\n1,2\n3,4\nend\n")
        #expect(try render(source, ["rows": rows([])], .csv(.standard)) == "a,b\nnone\nend\n")
    }

    @Test func indentedStandaloneTagsAndCommentsVanish() throws {
        let source = "<ul>\n  {{! a comment }}\n  {{#on}}\n  <li>{{x}}</li>\n  {{/on}}\n</ul>\n"
        #expect(try render(source, ["on": .flag(true), "x": .text("y")]) == "<ul>\n  <li>y</li>\n</ul>\n")
        #expect(try render(source, ["on": .flag(false), "x": .text("y")]) == "<ul>\n</ul>\n")
    }

    @Test func inlineSectionsKeepTheirLine() throws {
        #expect(try render("x {{#on}}yes{{/on}}{{^on}}no{{/on}} z", ["on": .flag(false)]) == "x no z")
        #expect(try render("{{#t}}[{{t}}]{{/t}}", ["t": .text("")]) == "")
        #expect(try render("{{#t}}[{{t}}]{{/t}}", ["t": .text("v")]) == "[v]")
    }

    @Test func namesResolveThroughEnclosingScopesAndDottedPaths() throws {
        let inner = DictionaryScope(values: ["b": .text("B")])
        #expect(try render("{{#rows}}{{a}}{{outer}};{{/rows}}{{s.b}}",
                           ["rows": rows([["a": "1"], ["a": "2"]]), "outer": .text("o"), "s": .scope(inner)]) == "1o;2o;B")
    }

    @Test func anUnknownNameIsAnErrorWithItsLine() throws {
        #expect(throws: TemplateError(template: "t", line: 2, message: "unknown name 'nmae'")) {
            try render("ok\n{{nmae}}", ["name": .text("x")])
        }
        #expect(throws: TemplateError.self) { try render("{{#missing}}x{{/missing}}", [:]) }
    }

    @Test(arguments: ["{{{raw}}}", "{{&raw}}", "{{> partial}}", "{{=<% %>=}}", "{{#a}}never closed", "{{/a}}", "{{#a}}{{/b}}", "{{ }}", "{{x", "{{a b}}"])
    func unsafeOrBrokenTemplatesDoNotCompile(source: String) {
        #expect(throws: TemplateError.self) { try Template(name: "t", source: source, contentType: .html) }
    }

    @Test func csvTemplatesTakeTheDialectsSeparatorAndLineEnd() throws {
        let source = "a,b\n{{#rows}}\n{{a}},{{b}}\n{{/rows}}\n"
        let values: [String: TemplateValue] = ["rows": rows([["a": "x;y", "b": "1,5"]])]
        #expect(try render(source, values, .csv(.standard)) == "a,b\nx;y,\"1,5\"\n")
        #expect(try render(source, values, .csv(.excelRU)) == "a;b\r\n\"x;y\";1,5\r\n")
    }

    @Test func crlfTemplatesBehaveLikeLFOnes() throws {
        #expect(try render("a\r\n{{#on}}\r\nb\r\n{{/on}}\r\n", ["on": .flag(true)]) == "a\nb\n")
    }

    /// The shipped templates compile, never write data unescaped, and every name they use exists.
    @Test func shippedTemplatesCompileAndUseNoRawOutput() throws {
        let folder = Repository.root.appendingPathComponent("Templates/ru")
        for dialect in CSVDialect.allCases {
            _ = try TemplateSet(dialect: dialect) { try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8) }
        }
        for name in TemplateSet.fileNames {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            #expect(!text.contains("{{{") && !text.contains("{{&"), "\(name)")
        }
    }

    // MARK: tables (names resolved once per section)

    /// Rows of text fields; `note` is a nested scope and `on` a flag, to exercise both kinds.
    final class TextTable: TemplateTable {
        let columns: [String]
        let cells: [[String]]
        let nested: DictionaryScope?
        init(_ columns: [String], _ cells: [[String]], nested: DictionaryScope? = nil) {
            self.columns = columns
            self.cells = cells
            self.nested = nested
        }
        var count: Int { cells.count }
        func field(_ name: String) -> Int? {
            if name == "on" { return columns.count }
            if name == "note", nested != nil { return columns.count + 1 }
            return columns.firstIndex(of: name)
        }
        func value(row: Int, field: Int) -> TemplateValue {
            if field == columns.count { return .flag(row % 2 == 0) }
            if field == columns.count + 1 { return .scope(nested!) }
            return .text(cells[row][field])
        }
    }

    @Test func tableRowsMixTheirFieldsWithEnclosingNamesAndConditions() throws {
        let table = TextTable(["a"], [["1"], ["<2>"], ["3"]])
        #expect(try render("{{#t}}{{a}}{{outer}}{{#on}}!{{/on}}{{^on}}?{{/on}};{{/t}}",
                           ["t": .table(table), "outer": .text("o")]) == "1o!;&lt;2&gt;o?;3o!;")
    }

    @Test func aScopeOpenedInsideARowShadowsTheRowsFields() throws {
        // `a` inside {{#note}} is the nested scope's, not the row's; `b` falls through to the row.
        let table = TextTable(["a", "b"], [["row-a", "row-b"]], nested: DictionaryScope(values: ["a": .text("note-a")]))
        #expect(try render("{{#t}}{{a}}|{{#note}}{{a}},{{b}}{{/note}}|{{note.a}}{{/t}}", ["t": .table(table)])
                == "row-a|note-a,row-b|note-a")
    }

    @Test func anEmptyTableRendersItsInvertedSectionAndAnUnknownNameInARowIsAnError() throws {
        #expect(try render("{{#t}}x{{/t}}{{^t}}none{{/t}}", ["t": .table(TextTable(["a"], []))]) == "none")
        #expect(throws: TemplateError(template: "t", line: 2, message: "unknown name 'b'")) {
            try render("{{#t}}\n{{b}}\n{{/t}}", ["t": .table(TextTable(["a"], [["1"]]))])
        }
    }

    @Test func aTableAndTheGenericRowsGiveTheSameBytes() throws {
        let source = "{{#t}}<td>{{a}}</td><td>{{b}}</td>{{#on}}<b>{{a}}</b>{{/on}}{{outer}}\n{{/t}}"
        let cells = (0..<50).map { ["a\($0)", "b&\($0)"] }
        let table = TextTable(["a", "b"], cells)
        let generic: TemplateValue = .rows(count: cells.count) { row in
            DictionaryScope(values: ["a": .text(cells[row][0]), "b": .text(cells[row][1]), "on": .flag(row % 2 == 0)])
        }
        #expect(try render(source, ["t": .table(table), "outer": .text("o")]) == render(source, ["t": generic, "outer": .text("o")]))
    }
}
