import BalanceModel
import BalanceRender
import BalanceReport
import Foundation
import Testing

/// A scope over a dictionary, for tests.
struct DictionaryScope: TemplateScope {
    var values: [String: TemplateValue]
    func value(_ name: String) -> TemplateValue? { values[name] }
}

func rows(_ items: [[String: String]]) -> TemplateValue {
    .rows(count: items.count) { index in DictionaryScope(values: items[index].mapValues { .text($0) }) }
}

func render(_ source: String, _ values: [String: TemplateValue], _ type: ContentType = .html) throws -> String {
    let template = try Template(name: "t", source: source, contentType: type)
    return String(decoding: try template.render(DictionaryScope(values: values)), as: UTF8.self)
}

/// The options of the golden case whose messages are ready to send, and what they should produce.
enum EmailFixture {
    static let contacts = "sample-data/contacts/contacts.csv"
    static let from = "Финансы «Облако» <billing@cloud.example>"
    static let date = "2024-04-01T09:00:00+03:00"
    static let rfcDate = "Mon, 01 Apr 2024 09:00:00 +0300"
    static let sendArguments = ["--eml", "--contacts", contacts, "--eml-from", from, "--eml-date", date]
    /// alfa-cloud's recipients in `contacts.csv`; vega-it has none.
    static let alfaRecipients = ["Бухгалтерия «Альфа Клауд» <finance@alfa-cloud.example>", "\"Smith, John\" <ceo@alfa-cloud.example>"]
}

/// Runs `python3 Tests/scripts/check_eml.py`, which parses a report.eml with Python's `email` package.
enum EMLCheck {
    static func run(_ partnerFolder: URL, to: [String] = [], from: String? = nil, date: String? = nil,
                    lang: String = "ru") throws -> CommandResult {
        var arguments = [Repository.root.appendingPathComponent("Tests/scripts/check_eml.py").path, partnerFolder.path, "--lang", lang]
        for address in to { arguments += ["--to", address] }
        if let from { arguments += ["--from", from] }
        if let date { arguments += ["--date", date] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// Runs a Python script of `Tests/scripts` and returns its result.
enum PythonScript {
    static func run(_ script: String, _ arguments: [String], in directory: URL? = nil) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Repository.root.appendingPathComponent("Tests/scripts/\(script)").standardizedFileURL.path] + arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs Python code given inline (`python3 -c`).
    static func inline(_ code: String, _ arguments: [String] = []) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", code] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self), stderr: "")
    }
}

/// `--xlsx` workbooks, read back with an independent reader (openpyxl, `Tests/scripts/check_xlsx.py`)
/// and compared with the CSV files of the same run.

/// A strict reader of the HTML the templates write, for what a mail client needs: every element
/// closed in order, every attribute value quoted, nothing that runs (`<script>`, `on…=` handlers,
/// `javascript:`) and nothing fetched from elsewhere (`http:`, `https:`, `//`, `url(…)`, `@import`,
/// images, frames, links, fonts) in CSS, in `<style>`, in comments (Outlook reads conditional ones)
/// or through a URL attribute. Data in a `title` or `data-*` attribute is text, not a reference.
/// It does not guess like a browser: what it cannot read is a problem.
struct EmailHTMLChecker {
    /// `clients/cl-1.html`, `../index.html`, `snapshot.html`: a path of safe file names, at most one
    /// level up, no scheme, no host, not absolute.
    static func isFolderLink(_ value: String) -> Bool {
        var rest = Substring(value)
        if rest.hasPrefix("../") { rest = rest.dropFirst(3) }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        return !parts.isEmpty && parts.allSatisfy { part in
            !part.isEmpty && part != "." && part != ".." && part.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)
            }
        }
    }

    struct Element {
        var name: String
        var attributes: [(name: String, value: String)]
    }

    static let voidElements: Set = ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]
    /// Elements a mailed report never needs: they run code, fetch resources or take input.
    static let forbiddenElements: Set = ["script", "iframe", "frame", "object", "embed", "applet", "link", "base", "img", "svg",
                                         "math", "video", "audio", "source", "form", "input", "button", "textarea", "select", "canvas"]

    private(set) var problems: [String] = []
    private(set) var elements: [Element] = []
    /// Text content with the five entities the renderer writes decoded (and `&nbsp;`).
    private(set) var text = ""

    init(_ html: String) {
        var stack: [String] = []
        var rest = Substring(html)
        func problem(_ message: String) { problems.append(message) }
        func checkReference(_ value: String, _ context: String) {
            let lower = value.lowercased()
            for marker in ["http:", "https:", "//", "url(", "@import", "javascript:", "vbscript:", "data:", "expression(", "@font-face"] where lower.contains(marker) {
                problem("\(context): a reference or code ('\(marker)') in \(value.prefix(80))")
            }
        }
        while !rest.isEmpty {
            guard let open = rest.firstIndex(of: "<") else {
                appendText(rest)
                break
            }
            appendText(rest[..<open])
            let tail = rest[open...]
            if tail.hasPrefix("<!--") {
                guard let end = tail.range(of: "-->") else { problem("an unclosed comment"); break }
                checkReference(String(tail[..<end.upperBound]), "comment")
                rest = tail[end.upperBound...]
                continue
            }
            if tail.hasPrefix("<!") {
                guard let end = tail.firstIndex(of: ">") else { problem("an unclosed declaration"); break }
                let declaration = tail[..<end].lowercased()
                if declaration != "<!doctype html" { problem("an unexpected declaration \(declaration)") }
                rest = tail[tail.index(after: end)...]
                continue
            }
            if tail.hasPrefix("</") {
                guard let end = tail.firstIndex(of: ">") else { problem("an unclosed end tag"); break }
                let name = tail[tail.index(open, offsetBy: 2)..<end].trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
                if let top = stack.last, top == name {
                    stack.removeLast()
                } else {
                    problem("</\(name)> closes \(stack.last.map { "<\($0)>" } ?? "nothing")")
                }
                rest = tail[tail.index(after: end)...]
                continue
            }
            // A start tag: a name, then attributes whose values are quoted.
            var index = tail.index(after: open)
            var name = ""
            while index < tail.endIndex, tail[index].isLetter || tail[index].isNumber { name.append(tail[index]); index = tail.index(after: index) }
            guard !name.isEmpty else {
                problem("a bare '<' in text (unescaped data?) at \(tail.prefix(40))")
                rest = tail[tail.index(after: open)...]
                continue
            }
            name = name.lowercased()
            var attributes: [(name: String, value: String)] = []
            var selfClosing = false
            var closed = false
            while index < tail.endIndex {
                let character = tail[index]
                if character == " " || character == "\n" || character == "\t" || character == "\r" { index = tail.index(after: index); continue }
                if character == ">" { closed = true; index = tail.index(after: index); break }
                if character == "/" , tail[tail.index(after: index)...].hasPrefix(">") {
                    selfClosing = true; closed = true; index = tail.index(index, offsetBy: 2); break
                }
                var attribute = ""
                while index < tail.endIndex, !" \t\n\r=>/".contains(tail[index]) { attribute.append(tail[index]); index = tail.index(after: index) }
                if attribute.isEmpty { problem("<\(name)>: an unreadable attribute at \(tail[index...].prefix(30))"); index = tail.index(after: index); continue }
                attribute = attribute.lowercased()
                guard index < tail.endIndex, tail[index] == "=" else {
                    attributes.append((attribute, ""))   // a boolean attribute such as nowrap
                    continue
                }
                index = tail.index(after: index)
                guard index < tail.endIndex, tail[index] == "\"" || tail[index] == "'" else {
                    problem("<\(name) \(attribute)=…>: an unquoted attribute value")
                    while index < tail.endIndex, !" \t\n>".contains(tail[index]) { index = tail.index(after: index) }
                    continue
                }
                let quote = tail[index]
                let valueStart = tail.index(after: index)
                guard let valueEnd = tail[valueStart...].firstIndex(of: quote) else { problem("<\(name) \(attribute)>: an unclosed quote"); index = tail.endIndex; break }
                let raw = String(tail[valueStart..<valueEnd])
                if raw.contains("<") { problem("<\(name) \(attribute)>: '<' inside an attribute value") }
                attributes.append((attribute, EmailHTMLChecker.decode(raw)))
                index = tail.index(after: valueEnd)
            }
            guard closed else { problem("<\(name)>: the tag never ends"); break }
            elements.append(Element(name: name, attributes: attributes))
            if EmailHTMLChecker.forbiddenElements.contains(name) { problem("a <\(name)> element") }
            for (attribute, value) in attributes {
                if attribute.hasPrefix("on") { problem("<\(name) \(attribute)=…>: an event handler attribute") }
                // A link inside the output folder (issue 20) is no resource: `<a href="clients/x.html">`,
                // `../index.html`; anything with a scheme, a host or an absolute path is.
                if name == "a" && attribute == "href" {
                    if !EmailHTMLChecker.isFolderLink(value) { problem("<a href=\"\(value)\">: not a relative link inside the folder") }
                } else if ["href", "src", "srcset", "action", "background", "poster", "formaction", "xlink:href", "lowsrc", "dynsrc"].contains(attribute) {
                    problem("<\(name) \(attribute)=…>: a resource attribute")
                }
                // Values that a client reads as a location: CSS, and meta content (a refresh URL).
                if attribute == "style" || attribute == "content" { checkReference(value, "<\(name) \(attribute)>") }
            }
            if name == "th" && !attributes.contains(where: { $0.name == "scope" }) { problem("a <th> without scope") }
            rest = tail[index...]
            if name == "style" || name == "script" {
                guard let end = rest.range(of: "</\(name)>", options: .caseInsensitive) else { problem("<\(name)> is never closed"); break }
                checkReference(String(rest[..<end.lowerBound]), "<style>")
                rest = rest[end.upperBound...]
                continue
            }
            if !selfClosing && !EmailHTMLChecker.voidElements.contains(name) { stack.append(name) }
        }
        if !stack.isEmpty { problems.append("never closed: " + stack.map { "<\($0)>" }.joined(separator: " ")) }
    }

    private mutating func appendText(_ raw: Substring) {
        text += EmailHTMLChecker.decode(String(raw))
    }

    static func decode(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&nbsp;", with: "\u{00A0}").replacingOccurrences(of: "&amp;", with: "&")
    }

    /// Page-level rules: a language, UTF-8, the mobile viewport, one column of at most 600 px.
    var pageProblems: [String] {
        var found = problems
        let html = elements.first { $0.name == "html" }
        if html?.attributes.first(where: { $0.name == "lang" })?.value.isEmpty ?? true { found.append("<html> without lang") }
        if !elements.contains(where: { $0.name == "meta" && $0.attributes.contains { $0.name == "charset" && $0.value.lowercased() == "utf-8" } }) {
            found.append("no <meta charset=\"utf-8\">")
        }
        if !elements.contains(where: { $0.attributes.contains { $0.name == "style" && $0.value.contains("max-width:600px") } }) {
            found.append("no column of max-width:600px")
        }
        return found
    }
}
