import BalanceReport
import BalanceModel
import BalanceSupport

extension Template {
    // MARK: - Compiling

    struct Token {
        enum Kind {
            case text(String)
            case variable(String)
            case open(String, inverted: Bool)
            case close(String)
            case comment
        }
        var kind: Kind
        var line: Int

        var isStandaloneCandidate: Bool {
            switch kind {
            case .text, .variable: return false
            default: return true
            }
        }
    }

    static func tokenize(_ source: String, name: String) throws(TemplateError) -> [Token] {
        var tokens: [Token] = []
        var rest = Substring(source)
        var line = 1
        while let open = rest.firstRange(of: "{{") {
            let text = rest[..<open.lowerBound]
            if !text.isEmpty { tokens.append(Token(kind: .text(String(text)), line: line)) }
            line += text.count(where: { $0 == "\n" })
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                throw TemplateError(template: name, line: line, message: "'{{' is never closed")
            }
            let content = rest[open.upperBound..<close.lowerBound]
            let tagLine = line
            line += content.count(where: { $0 == "\n" })
            rest = rest[close.upperBound...]
            let trimmed = content.trimmingCharacters(in: " \t\n\r")
            guard let sigil = trimmed.first else {
                throw TemplateError(template: name, line: tagLine, message: "empty tag")
            }
            func nameAfterSigil() throws(TemplateError) -> String {
                let tagName = trimmed.dropFirst().trimmingCharacters(in: " \t\n\r")
                guard !tagName.isEmpty else { throw TemplateError(template: name, line: tagLine, message: "a tag without a name") }
                return tagName
            }
            switch sigil {
            case "{", "&":
                throw TemplateError(template: name, line: tagLine, message: "unescaped output ({{{…}}} or {{&…}}) is not allowed: every value is escaped")
            case ">", "<", "$", "=":
                throw TemplateError(template: name, line: tagLine, message: "partials, blocks and delimiter changes are not supported")
            case "!":
                tokens.append(Token(kind: .comment, line: tagLine))
            case "#":
                tokens.append(Token(kind: .open(try nameAfterSigil(), inverted: false), line: tagLine))
            case "^":
                tokens.append(Token(kind: .open(try nameAfterSigil(), inverted: true), line: tagLine))
            case "/":
                tokens.append(Token(kind: .close(try nameAfterSigil()), line: tagLine))
            default:
                guard trimmed.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) else {
                    throw TemplateError(template: name, line: tagLine, message: "'\(trimmed)' is not a name")
                }
                tokens.append(Token(kind: .variable(trimmed), line: tagLine))
            }
        }
        if !rest.isEmpty { tokens.append(Token(kind: .text(String(rest)), line: line)) }
        return tokens
    }

    /// Mustache's standalone rule: a line holding only a section, inverted, closing or comment
    /// tag (and white space) is removed whole.
    static func stripStandaloneLines(_ tokens: inout [Token]) {
        var keepFrom = [Int: String.Index]()   // text token index → start of what stays
        var keepUpTo = [Int: String.Index]()   // text token index → end of what stays
        for (index, token) in tokens.enumerated() where token.isStandaloneCandidate {
            // Before: start of template, or a text ending in newline + blanks (or only blanks at template start).
            var before: String.Index? = nil
            if index > 0 {
                guard case .text(let text) = tokens[index - 1].kind else { continue }
                if let newline = text.lastIndex(of: "\n") {
                    let tail = text[text.index(after: newline)...]
                    guard tail.allSatisfy({ $0 == " " || $0 == "\t" }) else { continue }
                    before = text.index(after: newline)
                } else {
                    guard index == 1, text.allSatisfy({ $0 == " " || $0 == "\t" }) else { continue }
                    before = text.startIndex
                }
            }
            // After: end of template, or a text starting with blanks + newline.
            var after: String.Index? = nil
            if index + 1 < tokens.count {
                guard case .text(let text) = tokens[index + 1].kind else { continue }
                guard let newline = text.firstIndex(of: "\n"),
                      text[..<newline].allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) else { continue }
                after = text.index(after: newline)
            }
            if let before { keepUpTo[index - 1] = before }
            if let after { keepFrom[index + 1] = after }
        }
        for index in Set(keepFrom.keys).union(keepUpTo.keys) {
            guard case .text(let text) = tokens[index].kind else { continue }
            let from = keepFrom[index] ?? text.startIndex
            let upTo = keepUpTo[index] ?? text.endIndex
            tokens[index].kind = .text(from < upTo ? String(text[from..<upTo]) : "")
        }
    }

    /// Deepest nesting of sections a template may have. Parsing, flattening and rendering
    /// recurse once per level, so an unbounded depth (60,000 unclosed sections) would exhaust
    /// the stack instead of giving an error; real templates nest three or four deep.
    static let maxNesting = 64

    static func parse(_ tokens: [Token], _ index: inout Int, closing: (name: String, line: Int)?, name: String,
                      depth: Int = 0) throws(TemplateError) -> [Node] {
        var nodes: [Node] = []
        while index < tokens.count {
            let token = tokens[index]
            index += 1
            switch token.kind {
            case .text(let text):
                if !text.isEmpty { nodes.append(.literal(Array(text.utf8))) }
            case .comment:
                continue
            case .variable(let path):
                nodes.append(.variable(path: path.split(separator: ".").map(String.init), line: token.line))
            case .open(let sectionName, let inverted):
                guard depth < maxNesting else {
                    throw TemplateError(template: name, line: token.line, message: "sections are nested more than \(maxNesting) deep")
                }
                let body = try parse(tokens, &index, closing: (sectionName, token.line), name: name, depth: depth + 1)
                nodes.append(.section(name: sectionName, inverted: inverted, body: body, line: token.line))
            case .close(let closed):
                guard let closing, closing.name == closed else {
                    throw TemplateError(template: name, line: token.line, message: "{{/\(closed)}} closes nothing open")
                }
                return nodes
            }
        }
        if let closing {
            throw TemplateError(template: name, line: closing.line, message: "{{#\(closing.name)}} is never closed")
        }
        return nodes
    }
}
