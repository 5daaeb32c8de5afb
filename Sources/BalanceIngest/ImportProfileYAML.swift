import BalanceModel
import BalanceSupport
import Glibc
import Yams

/// Reading an import profile from its YAML file (kept apart from the profile's types so that the
/// fuzz targets in `Fuzz/` can build the Ingest stage without Yams).
extension ImportProfile {
    /// Largest profile file read: a profile is a few dozen lines.
    static let maxBytes = 1 << 20

    public static func load(path: String) throws(ProfileError) -> ImportProfile {
        // Not blocking on a FIFO nobody writes to: only a regular file is read.
        var bytes: [UInt8]
        do {
            bytes = try FileSystem.readRegularFile(path, limit: maxBytes, followLinks: true)
        } catch {
            switch error {
            case .cannotOpen(let reason):
                throw ProfileError("\(path): cannot open: \(reason) (a profile is a file, or a built-in one: \(BuiltInProfiles.names.joined(separator: ", ")))", unreadable: true)
            case .cannotRead(let reason): throw ProfileError("\(path): cannot read: \(reason)", unreadable: true)
            case .notRegular, .symbolicLink:
                throw ProfileError("\(path): not a regular file (a pipe or a device is not read as a profile: save the profile as a file)", unreadable: true)
            case .tooLarge: throw ProfileError("\(path): a profile may not be larger than 1 MiB")
            }
        }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ProfileError("\(path): the profile is not valid UTF-8")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws(ProfileError) -> ImportProfile {
        var profile = ImportProfile(path: path)
        func fail(_ node: Node?, _ message: String) -> ProfileError {
            ProfileError("\(path)\(node?.mark.map { ":\($0.line)" } ?? ""): \(message)")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ProfileError("\(path): not a valid YAML profile: \(Quoted.cut("\(error)", limit: 1000))")
        }
        guard let root else { throw ProfileError("\(path): the profile is empty") }
        try checkExpansion(root, path: path)
        guard case .mapping(let top) = root else { throw fail(root, "a profile is a mapping of keys (encoding:, columns:, …)") }

        func scalar(_ node: Node, _ key: String) throws(ProfileError) -> String {
            guard case .scalar(let value) = node else { throw fail(node, "\(key) takes a single value") }
            return value.string
        }
        func table(_ node: Node, _ key: String) throws(ProfileError) -> [(key: String, value: String, node: Node)] {
            guard case .mapping(let mapping) = node else { throw fail(node, "\(key) takes a mapping of 'from: to' lines") }
            var pairs: [(key: String, value: String, node: Node)] = []
            for (from, to) in mapping {
                let fromText = try scalar(from, key)
                let toText = try scalar(to, key).trimmingWhitespace()
                guard !fromText.trimmingWhitespace().isEmpty else { throw fail(from, "\(key): an empty name cannot be renamed") }
                guard !toText.isEmpty else { throw fail(to, "\(key): '\(Quoted.cut(fromText))' is renamed to nothing") }
                pairs.append((fromText, toText, to))
            }
            return pairs
        }

        var seen = Set<String>()
        for (keyNode, value) in top {
            let key = try scalar(keyNode, "a key")
            guard keys.contains(key) else {
                throw fail(keyNode, "unknown key '\(Quoted.cut(key))' (known: \(keys.joined(separator: ", ")))")
            }
            guard seen.insert(key).inserted else { throw fail(keyNode, "\(key) is given twice") }
            switch key {
            case "description":
                profile.summary = try scalar(value, key).trimmingWhitespace()
            case "files":
                switch value {
                case .scalar(let pattern): profile.files = [pattern.string]
                case .sequence(let patterns):
                    for pattern in patterns { profile.files.append(try scalar(pattern, key)) }
                default: throw fail(value, "files takes a pattern or a list of patterns")
                }
                if profile.files.contains(where: { $0.trimmingWhitespace().isEmpty }) { throw fail(value, "files: a pattern is empty") }
            case "encoding":
                let name = try scalar(value, key)
                guard let encoding = TextEncoding.named(name) else {
                    throw fail(value, "encoding '\(Quoted.cut(name))' is not supported (utf-8 or windows-1251)")
                }
                profile.encoding = encoding
            case "delimiter":
                let text = try scalar(value, key)
                switch text {
                case ",": profile.delimiter = UInt8(ascii: ",")
                case ";": profile.delimiter = UInt8(ascii: ";")
                case "\t", "tab", "TAB": profile.delimiter = 0x09
                default: throw fail(value, "delimiter '\(Quoted.cut(text))' is not one of \",\", \";\" or tab")
                }
            case "decimal_mark":
                let text = try scalar(value, key)
                switch text {
                case ".": profile.decimalMark = .point
                case ",": profile.decimalMark = .comma
                default: throw fail(value, "decimal_mark '\(Quoted.cut(text))' is not \".\" or \",\"")
                }
            case "input_offset":
                let text = try scalar(value, key)
                do { profile.inputOffsetSeconds = try TimestampParser.parseOffset(text) } catch {
                    throw fail(value, "input_offset '\(Quoted.cut(text))': \(error.message)")
                }
            case "timestamp_format":
                let text = try scalar(value, key)
                do { profile.timestampFormat = try TimestampFormat(text) } catch { throw fail(value, error.message) }
            case "columns":
                let fields = Set(RecordKind.allCases.flatMap(\.fields))
                for pair in try table(value, key) {
                    let target = HeaderMapping.normalize(pair.value)
                    guard fields.contains(target) else {
                        throw fail(pair.node, "columns: '\(Quoted.cut(pair.key))' is renamed to '\(Quoted.cut(pair.value))', which is no field (\(RecordKind.allCases.flatMap(\.fields).uniqued().joined(separator: ", ")))")
                    }
                    profile.columns[pair.key] = target
                }
            case "transaction_types":
                for pair in try table(value, key) {
                    guard TransactionKind(rawValue: pair.value) != nil else {
                        throw fail(pair.node, "transaction_types: '\(Quoted.cut(pair.value))' is not topup, charge or refund")
                    }
                    profile.values.transactionTypes[pair.key] = pair.value
                }
            case "event_types":
                for pair in try table(value, key) {
                    guard ClientEventKind(rawValue: pair.value) != nil else {
                        throw fail(pair.node, "event_types: '\(Quoted.cut(pair.value))' is not invited, confirmed, blocked, unblocked or removed")
                    }
                    profile.values.eventTypes[pair.key] = pair.value
                }
            case "currencies":
                for pair in try table(value, key) {
                    guard CurrencyCode.isValid(pair.value) else {
                        throw fail(pair.node, "currencies: '\(Quoted.cut(pair.value))' is not a three-letter code such as RUB")
                    }
                    profile.values.currencies[pair.key] = pair.value
                }
            case "signed_amounts", "float_amounts", "balances":
                let text = try scalar(value, key).trimmingWhitespace().lowercased()
                let on: Bool
                switch text {
                case "yes", "true": on = true
                case "no", "false": on = false
                default: throw fail(value, "\(key) is yes or no, got '\(Quoted.cut(text))'")
                }
                switch key {
                case "signed_amounts": profile.signedAmounts = on
                case "float_amounts": profile.floatAmounts = on
                default: profile.balances = on
                }
            case "null_tokens":
                switch value {
                case .scalar(let token): profile.nullTokens = [token.string]
                case .sequence(let tokens):
                    for token in tokens { profile.nullTokens.append(try scalar(token, key)) }
                default: throw fail(value, "null_tokens takes a value or a list of values")
                }
                if profile.nullTokens.contains(where: \.isEmpty) { throw fail(value, "null_tokens: a token is empty") }
            case "row_ids":
                let text = try scalar(value, key).trimmingWhitespace()
                switch text {
                case "content": profile.rowLayout.idsFromContent = true
                case "fields":
                    profile.rowLayout.idsFromContent = true
                    profile.rowLayout.idsFromFields = true
                case "column":
                    profile.rowLayout.idsFromContent = false
                    profile.rowLayout.idsFromFields = false
                default: throw fail(value, "row_ids is content (an id made from each row), fields (from the fields read, identical rows of a file counted) or column (the id column), got '\(Quoted.cut(text))'")
                }
            case "amount_columns":
                for pair in try table(value, key) {
                    guard let kind = TransactionKind(rawValue: pair.value) else {
                        throw fail(pair.node, "amount_columns: '\(Quoted.cut(pair.value))' is not topup, charge or refund")
                    }
                    profile.rowLayout.amountColumns.append(RowLayout.AmountColumn(column: pair.key, kind: kind))
                }
            case "clients_from_rows":
                profile.rowLayout.clientsFromRows = true
                if case .mapping(let mapping) = value, mapping.count == 0 { break }
                for pair in try table(value, key) {
                    switch pair.key {
                    case "name": profile.rowLayout.clientName = pair.value
                    case "partner": profile.rowLayout.clientPartner = pair.value
                    default: throw fail(pair.node, "clients_from_rows takes name: and partner: (the columns that give them)")
                    }
                }
            case "supersede":
                for pair in try table(value, key) {
                    switch pair.key {
                    case "day": profile.rowLayout.supersedeDay = pair.value
                    case "version": profile.rowLayout.supersedeVersion = pair.value
                    default: throw fail(pair.node, "supersede takes day: and version: (the columns of the day and of its export time)")
                    }
                }
                if profile.rowLayout.supersedeDay == nil || profile.rowLayout.supersedeVersion == nil {
                    throw fail(value, "supersede needs both day: and version:")
                }
            case "invoices":
                var layout = InvoiceLayout()
                for pair in try table(value, key) {
                    switch pair.key {
                    case "id": layout.id = pair.value
                    case "period_start": layout.periodStart = pair.value
                    case "period_end": layout.periodEnd = pair.value
                    case "charge_class": layout.chargeClass = pair.value
                    default: throw fail(pair.node, "invoices takes id:, period_start:, period_end: and charge_class: (the columns that give them)")
                    }
                }
                profile.rowLayout.invoices = layout
            default:
                break
            }
        }
        return profile
    }
}

extension ImportProfile {
    /// What a profile may hold once its aliases are expanded: YAML aliases (`*a`) repeat what an
    /// anchor holds, so a 1 MiB file can stand for gigabytes (one 500 KB scalar aliased 100,000
    /// times). Real profiles are a few dozen lines.
    static let maxExpandedBytes = 4 << 20
    static let maxExpandedNodes = 100_000

    /// Refuses a profile whose expanded content passes the bounds, before anything of it is used.
    /// The walk stops as soon as it does, so it costs no more than the bound whatever the nesting.
    static func checkExpansion(_ root: Node, path: String) throws(ProfileError) {
        var bytes = 0
        var nodes = 0
        var stack: [Node] = [root]
        while let node = stack.popLast() {
            nodes += 1
            switch node {
            case .scalar(let scalar): bytes += scalar.string.utf8.count
            case .mapping(let mapping):
                for (key, value) in mapping {
                    stack.append(key)
                    stack.append(value)
                }
            case .sequence(let sequence): stack.append(contentsOf: sequence)
            case .alias: break
            }
            if bytes > maxExpandedBytes || nodes > maxExpandedNodes {
                throw ProfileError("\(path): the profile expands to more than \(maxExpandedBytes >> 20) MiB or \(maxExpandedNodes) values once its YAML aliases (*name) are followed; a profile is a few dozen lines: write the values out")
            }
        }
    }
}
