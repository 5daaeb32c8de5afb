import Glibc
import Yams

/// A problem with an import profile file, with `file:line` where it can be told.
public struct ProfileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Value renames of an export layout: its own words for the types and currencies SPEC §2 names.
public struct ValueMaps: Sendable, Equatable {
    /// `Пополнение` → `topup`, … (transactions' `type`).
    public var transactionTypes: [String: String] = [:]
    /// `Подтверждён` → `confirmed`, … (client events' `type`).
    public var eventTypes: [String: String] = [:]
    /// `руб.` → `RUB`, … (transactions' `currency`).
    public var currencies: [String: String] = [:]

    public init(transactionTypes: [String: String] = [:], eventTypes: [String: String] = [:], currencies: [String: String] = [:]) {
        self.transactionTypes = transactionTypes
        self.eventTypes = eventTypes
        self.currencies = currencies
    }

    public var isEmpty: Bool { transactionTypes.isEmpty && eventTypes.isEmpty && currencies.isEmpty }

    /// Per record kind, the maps by schema field position (`RecordKind.fields`), as bytes.
    var byField: [RecordKind: [Int: [[UInt8]: [UInt8]]]] {
        func bytes(_ map: [String: String]) -> [[UInt8]: [UInt8]] {
            Dictionary(uniqueKeysWithValues: map.map { (Array($0.key.utf8), Array($0.value.utf8)) })
        }
        var result: [RecordKind: [Int: [[UInt8]: [UInt8]]]] = [:]
        var transaction: [Int: [[UInt8]: [UInt8]]] = [:]
        if !transactionTypes.isEmpty { transaction[RecordKind.transaction.fields.firstIndex(of: "type")!] = bytes(transactionTypes) }
        if !currencies.isEmpty { transaction[RecordKind.transaction.fields.firstIndex(of: "currency")!] = bytes(currencies) }
        if !transaction.isEmpty { result[.transaction] = transaction }
        if !eventTypes.isEmpty { result[.event] = [RecordKind.event.fields.firstIndex(of: "type")!: bytes(eventTypes)] }
        return result
    }
}

/// A record's fields with a layout's values renamed: a value the map names is replaced by its
/// canonical word before decoding; every other value is passed on as it is.
struct ValueMappedFields<Base: SourceFields>: SourceFields {
    let base: Base
    let maps: [Int: [[UInt8]: [UInt8]]]

    func withField<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        guard let map = maps[index] else { return try base.withField(index, body) }
        return try base.withField(index) { bytes in
            if let mapped = map[Array(bytes)] { return try mapped.withUnsafeBufferPointer(body) }
            return try body(bytes)
        }
    }
}

/// How one export layout is read (`--profile FILE`): header renames, value renames, the timestamp
/// layout, the input offset, the delimiter, the decimal mark and the encoding. A YAML file:
///
/// ```yaml
/// encoding: windows-1251
/// delimiter: ";"
/// decimal_mark: ","
/// timestamp_format: "DD.MM.YYYY HH:MM"
/// input_offset: "+03:00"
/// columns:
///   Дата операции: timestamp
///   Сумма: amount
/// transaction_types:
///   Пополнение: topup
/// ```
///
/// Every key is optional; an unknown key, or a value the tool cannot use, is an error naming the
/// file and line (a misspelt key must not be ignored silently). Every value is read as plain text:
/// YAML's type guessing never turns `no` into `false` or `+03:00` into a number.
public struct ImportProfile: Sendable, Equatable {
    public var path: String
    public var encoding: TextEncoding?
    public var delimiter: UInt8?
    public var decimalMark: DecimalMark?
    public var inputOffsetSeconds: Int64?
    public var timestampFormat: TimestampFormat?
    /// Export header (or XML field) name → schema field name.
    public var columns: [String: String] = [:]
    public var values = ValueMaps()
    /// Which CSV and XML files of a run the profile is for: shell patterns (`bank-*.csv`) matched
    /// against each file's name, or against its whole path when the pattern has a `/`. Empty: every file.
    public var files: [String] = []

    /// Whether the profile is for the input file at `path`.
    public func applies(to path: String) -> Bool {
        if files.isEmpty { return true }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return files.contains { pattern in
            fnmatch(pattern, pattern.contains("/") ? path : name, 0) == 0
        }
    }

    public init(path: String = "") { self.path = path }

    public static let keys = ["description", "files", "encoding", "delimiter", "decimal_mark", "input_offset", "timestamp_format",
                              "columns", "transaction_types", "event_types", "currencies"]

    /// Largest profile file read: a profile is a few dozen lines.
    static let maxBytes = 1 << 20

    public static func load(path: String) throws(ProfileError) -> ImportProfile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ProfileError("cannot read the profile \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let got = read(fd, &chunk, chunk.count)
            if got < 0 {
                if errno == EINTR { continue }
                throw ProfileError("cannot read the profile \(path): \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            bytes.append(contentsOf: chunk[..<got])
            if bytes.count > maxBytes { throw ProfileError("\(path): a profile may not be larger than 1 MiB") }
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
            throw ProfileError("\(path): not a valid YAML profile: \(error)")
        }
        guard let root else { throw ProfileError("\(path): the profile is empty") }
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
                guard !toText.isEmpty else { throw fail(to, "\(key): '\(fromText)' is renamed to nothing") }
                pairs.append((fromText, toText, to))
            }
            return pairs
        }

        var seen = Set<String>()
        for (keyNode, value) in top {
            let key = try scalar(keyNode, "a key")
            guard keys.contains(key) else {
                throw fail(keyNode, "unknown key '\(key)' (known: \(keys.joined(separator: ", ")))")
            }
            guard seen.insert(key).inserted else { throw fail(keyNode, "\(key) is given twice") }
            switch key {
            case "description":
                _ = try scalar(value, key)
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
                    throw fail(value, "encoding '\(name)' is not supported (utf-8 or windows-1251)")
                }
                profile.encoding = encoding
            case "delimiter":
                let text = try scalar(value, key)
                switch text {
                case ",": profile.delimiter = UInt8(ascii: ",")
                case ";": profile.delimiter = UInt8(ascii: ";")
                case "\t", "tab", "TAB": profile.delimiter = 0x09
                default: throw fail(value, "delimiter '\(text)' is not one of \",\", \";\" or tab")
                }
            case "decimal_mark":
                let text = try scalar(value, key)
                switch text {
                case ".": profile.decimalMark = .point
                case ",": profile.decimalMark = .comma
                default: throw fail(value, "decimal_mark '\(text)' is not \".\" or \",\"")
                }
            case "input_offset":
                let text = try scalar(value, key)
                do { profile.inputOffsetSeconds = try TimestampParser.parseOffset(text) } catch {
                    throw fail(value, "input_offset '\(text)': \(error.message)")
                }
            case "timestamp_format":
                let text = try scalar(value, key)
                do { profile.timestampFormat = try TimestampFormat(text) } catch { throw fail(value, error.message) }
            case "columns":
                let fields = Set(RecordKind.allCases.flatMap(\.fields))
                for pair in try table(value, key) {
                    let target = HeaderMapping.normalize(pair.value)
                    guard fields.contains(target) else {
                        throw fail(pair.node, "columns: '\(pair.key)' is renamed to '\(pair.value)', which is no field (\(RecordKind.allCases.flatMap(\.fields).uniqued().joined(separator: ", ")))")
                    }
                    profile.columns[pair.key] = target
                }
            case "transaction_types":
                for pair in try table(value, key) {
                    guard TransactionKind(rawValue: pair.value) != nil else {
                        throw fail(pair.node, "transaction_types: '\(pair.value)' is not topup, charge or refund")
                    }
                    profile.values.transactionTypes[pair.key] = pair.value
                }
            case "event_types":
                for pair in try table(value, key) {
                    guard ClientEventKind(rawValue: pair.value) != nil else {
                        throw fail(pair.node, "event_types: '\(pair.value)' is not invited, confirmed, blocked, unblocked or removed")
                    }
                    profile.values.eventTypes[pair.key] = pair.value
                }
            case "currencies":
                for pair in try table(value, key) {
                    guard pair.value.utf8.count == 3, pair.value.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
                        throw fail(pair.node, "currencies: '\(pair.value)' is not a three-letter code such as RUB")
                    }
                    profile.values.currencies[pair.key] = pair.value
                }
            default:
                break
            }
        }
        return profile
    }
}

/// The options for the files an import profile is for.
public final class ProfiledOptions: Sendable {
    public let profile: ImportProfile
    public let options: IngestOptions

    init(profile: ImportProfile, options: IngestOptions) {
        self.profile = profile
        self.options = options
    }
}

extension IngestOptions {
    /// The options of a run. Files the profile is for get its settings, each overridden by its
    /// command-line option when that is given (`--input-offset`, `--encoding`; `--map` renames win
    /// over `columns`); every other file is read with the command-line options alone.
    public init(profile: ImportProfile?, inputOffsetSeconds: Int64?, renames: [String: String], encoding: TextEncoding?) {
        self.init(naiveOffsetSeconds: inputOffsetSeconds ?? MoscowTime.offsetSeconds, mapping: HeaderMapping(renames))
        self.encoding = encoding ?? .utf8
        guard let profile else { return }
        var columns = profile.columns
        for (from, to) in renames {
            // A command-line rename replaces a profile rename of the same header, whatever its case.
            columns = columns.filter { HeaderMapping.normalize($0.key) != HeaderMapping.normalize(from) }
            columns[from] = to
        }
        var profiled = IngestOptions(naiveOffsetSeconds: inputOffsetSeconds ?? profile.inputOffsetSeconds ?? MoscowTime.offsetSeconds,
                                     mapping: HeaderMapping(columns))
        profiled.encoding = encoding ?? profile.encoding ?? .utf8
        profiled.delimiter = profile.delimiter
        profiled.decimalMark = profile.decimalMark
        profiled.timestampFormat = profile.timestampFormat
        profiled.values = profile.values
        self.profiled = ProfiledOptions(profile: profile, options: profiled)
    }

    /// The options the file at `path` is read with.
    public func forFile(_ path: String) -> IngestOptions {
        guard let profiled, profiled.profile.applies(to: path) else { return self }
        return profiled.options
    }
}

extension Ingestor {
    /// `decode` through the run's value maps, when it has any for this kind of record.
    static func decode<F: SourceFields>(_ fields: F, kind: RecordKind, source: SourceLocation, decoder: RecordDecoder,
                                        valueMaps: [RecordKind: [Int: [[UInt8]: [UInt8]]]], into export: inout IngestedExport) {
        if let maps = valueMaps[kind] {
            decode(ValueMappedFields(base: fields, maps: maps), kind: kind, source: source, decoder: decoder, into: &export)
        } else {
            decode(fields, kind: kind, source: source, decoder: decoder, into: &export)
        }
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
