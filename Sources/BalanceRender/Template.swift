import BalanceReport
import BalanceModel
import BalanceSupport
/// A logic-less template in Mustache syntax: `{{name}}`, `{{#section}}…{{/section}}`,
/// `{{^inverted}}…{{/inverted}}` and `{{! comments }}`, standalone tag lines leaving no blank line.
///
/// Every value is escaped for the content type; the unescaped forms `{{{…}}}` and `{{&…}}` and
/// partials are refused when the template is compiled, so no edit to a template can let data
/// through raw. A name that no scope defines is an error, not an empty string, so a typo cannot
/// quietly blank a column. Templates are compiled once into literal byte chunks and lookups.
public struct Template: Sendable {
    indirect enum Node: Sendable {
        case literal([UInt8])
        case variable(path: [String], line: Int)
        case section(name: String, inverted: Bool, body: [Node], line: Int)
    }

    public let name: String
    public let contentType: ContentType
    /// Line breaks in values become spaces: the plain-text e-mail lists one client a line, and a
    /// name with a line break in it must not split its item.
    public var oneLineValues = false
    /// The compiled program: a flat list of operations with integer operands, so running it
    /// copies no reference-counted values.
    let ops: [Op]
    /// Every literal chunk, back to back; `.literal` operations point into it.
    let literalBytes: [UInt8]
    /// Every segment of every name, back to back; name operations point into it.
    let nameSegments: [String]

    struct Op: Sendable {
        enum Code: UInt8, Sendable { case literal, variable, section, inverted }
        var code: Code
        /// literal: start in `literalBytes`; variable and sections: first segment in `nameSegments`.
        var operand: Int32
        /// literal: byte count; variable: segment count; sections: index just past the body.
        var extent: Int32
        var line: Int32
    }

    /// CR, LF, NEL, VT, FF and the Unicode line and paragraph separators.
    static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029: return true
        default: return false
        }
    }

    /// Compiles `source`. For CSV templates, which are written in the plain dialect (`,` and LF),
    /// the literal text is turned into the target dialect's separator and line end here.
    public init(name: String, source: String, contentType: ContentType) throws(TemplateError) {
        self.name = name
        self.contentType = contentType
        var tokens = try Template.tokenize(source.replacingOccurrences(of: "\r\n", with: "\n"), name: name)
        Template.stripStandaloneLines(&tokens)
        if case .csv(let dialect) = contentType, dialect != .standard {
            tokens = tokens.map { token in
                guard case .text(let text) = token.kind else { return token }
                var converted = text.replacingOccurrences(of: ",", with: String(dialect.separator))
                if dialect.lineEnd != "\n" { converted = converted.replacingOccurrences(of: "\n", with: dialect.lineEnd) }
                return Token(kind: .text(converted), line: token.line)
            }
        }
        var index = 0
        let tree = try Template.parse(tokens, &index, closing: nil, name: name)
        var ops: [Op] = []
        var literalBytes: [UInt8] = []
        var nameSegments: [String] = []
        func flatten(_ nodes: [Node]) {
            for node in nodes {
                switch node {
                case .literal(let bytes):
                    ops.append(Op(code: .literal, operand: Int32(literalBytes.count), extent: Int32(bytes.count), line: 0))
                    literalBytes.append(contentsOf: bytes)
                case .variable(let path, let line):
                    ops.append(Op(code: .variable, operand: Int32(nameSegments.count), extent: Int32(path.count), line: Int32(line)))
                    nameSegments.append(contentsOf: path)
                case .section(let sectionName, let inverted, let body, let line):
                    let at = ops.count
                    ops.append(Op(code: inverted ? .inverted : .section, operand: Int32(nameSegments.count), extent: 0, line: Int32(line)))
                    nameSegments.append(sectionName)
                    flatten(body)
                    ops[at].extent = Int32(ops.count)
                }
            }
        }
        flatten(tree)
        self.ops = ops
        self.literalBytes = literalBytes
        self.nameSegments = nameSegments
    }

    /// Renders into `output`. `currency` picks the sign of display amounts and `language` how HTML
    /// shows figures; CSV is exact and the same in every language.
    public func render(_ scope: any TemplateScope, currency: String = "RUB", language: ReportLanguage = .ru,
                       limits: Limits = .standard, into output: inout [UInt8]) throws(TemplateError) {
        var stack: [any TemplateScope] = [scope]
        stack.reserveCapacity(8)
        let context = RenderContext(currency: currency, language: language, outsideTables: .outside(), budget: RenderBudget(limits))
        let result: Result<Void, TemplateError> = literalBytes.withUnsafeBufferPointer { literals in
            Result { () throws(TemplateError) in try run(0..<ops.count, literals, &stack, context, &output, context.outsideTables) }
        }
        try result.get()
    }

    public func render(_ scope: any TemplateScope, currency: String = "RUB", language: ReportLanguage = .ru,
                       limits: Limits = .standard) throws(TemplateError) -> [UInt8] {
        var output: [UInt8] = []
        try render(scope, currency: currency, language: language, limits: limits, into: &output)
        return output
    }

    /// What one render call needs throughout.
    private struct RenderContext {
        var currency: String
        let language: ReportLanguage
        let outsideTables: RowBinding
        let budget: RenderBudget

        /// The context under `scope`: its currency when it has one.
        func under(_ scope: any TemplateScope) -> RenderContext {
            guard let currency = (scope as? any CurrencyScope)?.currency else { return self }
            var inner = self
            inner.currency = currency
            return inner
        }
    }

    /// Issue 19: what one template may do to write one file. Sections nested in sections repeat
    /// their body for every row of each (`{{#clients}}` 30 deep would run for ever), so a render
    /// stops with an error naming the template once it has written more than `maxOutputBytes` or
    /// repeated a section body more than `maxRepetitions` times. The built-in templates stay far
    /// below both (a row of a file is one repetition and a few dozen bytes).
    /// A section that repeats inside a section repeating the same name (`{{#clients}}` within
    /// `{{#clients}}`) is refused outright: it writes every row once per row of itself.
    public struct Limits: Sendable {
        public var maxOutputBytes: Int
        public var maxRepetitions: Int
        public static let standard = Limits(maxOutputBytes: 1 << 30, maxRepetitions: 64_000_000)
        public init(maxOutputBytes: Int, maxRepetitions: Int) {
            self.maxOutputBytes = maxOutputBytes
            self.maxRepetitions = maxRepetitions
        }
    }

    private final class RenderBudget {
        let limits: Limits
        var repetitions = 0
        /// Names of the repeating sections being run, outermost first.
        var repeating: [String] = []
        init(_ limits: Limits) { self.limits = limits }
    }

    @inline(__always)
    private func charge(_ context: RenderContext, _ output: [UInt8], _ op: Op) throws(TemplateError) {
        let budget = context.budget
        budget.repetitions &+= 1
        if budget.repetitions > budget.limits.maxRepetitions || output.count > budget.limits.maxOutputBytes {
            throw TemplateError(template: name, line: Int(op.line), message: "the template writes more than \(budget.limits.maxOutputBytes >> 20) MiB or repeats its sections more than \(budget.limits.maxRepetitions) times for one file (sections nested in sections of many rows?); nothing written")
        }
    }

    /// Enters the repeating section of `op`; refuses one already repeating around it.
    private func enterRepeating(_ context: RenderContext, _ op: Op) throws(TemplateError) {
        let sectionName = nameSegments[Int(op.operand)]
        if context.budget.repeating.contains(where: { $0.utf8.elementsEqual(sectionName.utf8) }) {
            throw TemplateError(template: name, line: Int(op.line), message: "{{#\(sectionName)}} is inside {{#\(sectionName)}}: it would write every row once for every row; nothing written")
        }
        context.budget.repeating.append(sectionName)
    }

    /// Typed values are written straight as bytes; what they produce (digits, marks, signs) needs no escaping.
    private func write(_ value: TemplateValue, _ context: RenderContext, _ output: inout [UInt8]) -> Bool {
        switch (value, contentType) {
        case (.text(let text), _):
            if oneLineValues, text.unicodeScalars.contains(where: Template.isLineBreak) {
                let flat = String(String.UnicodeScalarView(text.unicodeScalars.map { Template.isLineBreak($0) ? " " : $0 }))
                Escaping.append(flat, for: contentType, to: &output)
            } else {
                Escaping.append(text, for: contentType, to: &output)
            }
        case (.money(let money), .html):
            switch context.language {
            case .ru: Formatting.appendRussian(money, currency: context.currency, to: &output)
            case .en: EnglishFormatting.appendAmount(money, currency: context.currency, to: &output)
            }
        case (.money(let money), .csv(let dialect)):
            Formatting.appendExact(money, decimalMark: dialect == .standard ? UInt8(ascii: ".") : UInt8(ascii: ","), to: &output)
        case (.rate(let rate), .html):
            if rate.roundedKopecks == 0 && rate.picos > 0 {
                let cent = Money(picos: Money.scale / 100)
                switch context.language {
                case .ru:
                    output.append(contentsOf: Array("меньше ".utf8))
                    Formatting.appendRussian(cent, currency: context.currency, to: &output)
                case .en:
                    output.append(contentsOf: Array("less than ".utf8))
                    EnglishFormatting.appendAmount(cent, currency: context.currency, to: &output)
                }
                return true
            }
            return write(.money(rate), context, &output)
        case (.rate(let rate), .csv):
            return write(.money(rate), context, &output)
        case (.instant(let instant), .html):
            switch context.language {
            case .ru: Formatting.appendRussianDateTime(instant, to: &output)
            case .en: EnglishFormatting.appendDateTime(instant, to: &output)
            }
        case (.instant(let instant), .csv): Formatting.appendISO(instant, to: &output)
        case (.spreadsheetInstant(let instant), .csv(.excelRU)):
            let c = MoscowTime.components(of: instant)
            Formatting.appendRussianDate(c.date, to: &output)
            output.append(UInt8(ascii: " "))
            Formatting.appendClock(c.hour, c.minute, to: &output)
            output.append(UInt8(ascii: ":"))
            Formatting.appendPadded(Int64(c.second), width: 2, to: &output)
        case (.spreadsheetInstant(let instant), _): return write(.instant(instant), context, &output)
        case (.date(let date), .html):
            switch context.language {
            case .ru: Formatting.appendRussianDate(date, to: &output)
            case .en: Formatting.appendISODate(date, to: &output)
            }
        case (.date(let date), .csv): Formatting.appendISODate(date, to: &output)
        default: return false
        }
        return true
    }

    /// The table row that the operations being run belong to, with each operation's field resolved
    /// (`-1`: not a field of the row, looked up through the scopes). It is also the row's scope on
    /// the stack, for what the resolved path does not cover (dotted names, sections that open a
    /// scope of their own inside the row).
    private final class RowBinding: TemplateScope {
        let table: any TemplateTable
        /// Set by the one thread that runs the template, once per row; read for every field.
        @exclusivity(unchecked) var row = 0
        /// Field per operation, indexed by `pc - first`.
        let fields: [Int32]
        let first: Int

        init(table: any TemplateTable, fields: [Int32], first: Int) {
            self.table = table
            self.fields = fields
            self.first = first
        }

        /// Outside every table: no operation is resolved.
        static func outside() -> RowBinding { RowBinding(table: NoRows(), fields: [], first: 0) }

        @inline(__always)
        func field(at pc: Int) -> Int {
            let index = pc &- first
            return index >= 0 && index < fields.count ? Int(fields[index]) : -1
        }

        func value(_ name: String) -> TemplateValue? {
            table.field(name).map { table.value(row: row, field: $0) }
        }

        private final class NoRows: TemplateTable {
            var count: Int { 0 }
            func field(_ name: String) -> Int? { nil }
            func value(row: Int, field: Int) -> TemplateValue { .flag(false) }
        }
    }

    /// Resolves the names of a table section's body once: field numbers for single names the rows
    /// define, `-1` for everything else.
    private func bindFields(_ body: Range<Int>, _ table: any TemplateTable) -> [Int32] {
        body.map { pc in
            let op = ops[pc]
            switch op.code {
            case .literal: return -1
            case .variable where op.extent != 1: return -1
            case .variable, .section, .inverted: return table.field(nameSegments[Int(op.operand)]).map(Int32.init) ?? -1
            }
        }
    }

    private func run(_ range: Range<Int>, _ literals: UnsafeBufferPointer<UInt8>, _ stack: inout [any TemplateScope],
                     _ context: RenderContext, _ output: inout [UInt8], _ binding: RowBinding) throws(TemplateError) {
        var pc = range.lowerBound
        while pc < range.upperBound {
            let op = ops[pc]
            switch op.code {
            case .literal:
                output.append(contentsOf: UnsafeBufferPointer(rebasing: literals[Int(op.operand)..<Int(op.operand + op.extent)]))
                pc += 1
            case .variable:
                let path = Int(op.operand)..<Int(op.operand + op.extent)
                if case let field = binding.field(at: pc), field >= 0 {
                    guard write(binding.table.value(row: binding.row, field: field), context, &output) else {
                        throw TemplateError(template: name, line: Int(op.line), message: "'\(pathText(path))' is a section, not a value")
                    }
                    pc += 1
                    continue
                }
                guard let value = lookup(path, stack) else {
                    throw TemplateError(template: name, line: Int(op.line), message: "unknown name '\(pathText(path))'")
                }
                guard write(value, context, &output) else {
                    throw TemplateError(template: name, line: Int(op.line), message: "'\(pathText(path))' is a section, not a value")
                }
                pc += 1
            case .section, .inverted:
                let inverted = op.code == .inverted
                let body = (pc + 1)..<Int(op.extent)
                let value: TemplateValue
                if case let field = binding.field(at: pc), field >= 0 {
                    value = binding.table.value(row: binding.row, field: field)
                } else if let found = lookup(Int(op.operand)..<Int(op.operand + 1), stack) {
                    value = found
                } else {
                    throw TemplateError(template: name, line: Int(op.line), message: "unknown section '\(nameSegments[Int(op.operand)])'")
                }
                // Conditions keep the row's resolved fields; a section that opens a scope of its
                // own runs without them, since its names may mean something else in there.
                switch value {
                case .flag(let on):
                    if on != inverted { try run(body, literals, &stack, context, &output, binding) }
                case .text(let text):
                    if text.isEmpty == inverted { try run(body, literals, &stack, context, &output, binding) }
                case .money, .rate, .instant, .spreadsheetInstant, .date:
                    if !inverted { try run(body, literals, &stack, context, &output, binding) }
                case .rows(let count, let row):
                    if inverted {
                        if count == 0 { try run(body, literals, &stack, context, &output, binding) }
                    } else if count > 0 {
                        try enterRepeating(context, op)
                        for index in 0..<count {
                            try charge(context, output, op)
                            let scope = row(index)
                            stack.append(scope)
                            try run(body, literals, &stack, context.under(scope), &output, context.outsideTables)
                            stack.removeLast()
                        }
                        context.budget.repeating.removeLast()
                    }
                case .table(let table):
                    if inverted {
                        if table.count == 0 { try run(body, literals, &stack, context, &output, binding) }
                    } else if table.count > 0 {
                        let rows = RowBinding(table: table, fields: bindFields(body, table), first: body.lowerBound)
                        stack.append(rows)
                        try enterRepeating(context, op)
                        let currencies = (table as? any CurrencyRows).flatMap { $0.hasRowCurrencies ? $0 : nil }
                        var rowContext = context
                        for row in 0..<table.count {
                            try charge(context, output, op)
                            rows.row = row
                            if let currencies { rowContext.currency = currencies.currency(row: row) ?? context.currency }
                            try run(body, literals, &stack, rowContext, &output, rows)
                        }
                        context.budget.repeating.removeLast()
                        stack.removeLast()
                    }
                case .scope(let scope):
                    if !inverted {
                        stack.append(scope)
                        try run(body, literals, &stack, context.under(scope), &output, context.outsideTables)
                        stack.removeLast()
                    }
                }
                pc = body.upperBound
            }
        }
    }

    private func pathText(_ path: Range<Int>) -> String {
        nameSegments[path].joined(separator: ".")
    }

    private func lookup(_ path: Range<Int>, _ stack: [any TemplateScope]) -> TemplateValue? {
        let first = nameSegments[path.lowerBound]
        var found: TemplateValue? = nil
        var level = stack.count
        while level > 0 {
            level -= 1
            if let value = stack[level].value(first) { found = value; break }
        }
        for part in path.dropFirst() {
            guard case .scope(let inner)? = found else { return nil }
            found = inner.value(nameSegments[part])
        }
        return found
    }

}

