import BalanceModel
import BalanceSupport
import Glibc

/// A problem with an import profile file, with `file:line` where it can be told.
public struct ProfileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    /// The file could not be opened or read (missing, a folder, no permission), as opposed to a
    /// profile that was read and is wrong: a missing file fails like every other missing file (exit 1).
    public var unreadable: Bool
    public init(_ message: String, unreadable: Bool = false) {
        self.message = message
        self.unreadable = unreadable
    }
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
    /// `signed_amounts`: amounts may be negative; a negative charge is a refund of its absolute value.
    public var signedAmounts = false
    /// `float_amounts`: amounts as binary floats print them (see `FloatAmountParser`).
    public var floatAmounts = false
    /// `balances: no`: a postpaid cost export (FOCUS, a cloud's cost report): it carries what was
    /// spent, not what was paid, so a client's "balance" would be its spend with the sign turned,
    /// a debt it does not owe. Reports of such a run show spend, not balances, runway or debt.
    public var balances = true
    /// `null_tokens`: values that mean an empty field (`NULL`, `\N`).
    public var nullTokens: [String] = []
    /// `row_ids`, `amount_columns`, `clients_from_rows`, `supersede`, `invoices`.
    public var rowLayout = RowLayout()
    /// The profile's `description`: one line for `balance-report profiles`.
    public var summary = ""

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
                              "columns", "transaction_types", "event_types", "currencies", "signed_amounts", "float_amounts", "balances", "null_tokens",
                              "row_ids", "amount_columns", "clients_from_rows", "supersede", "invoices"]
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
        profiled.signedAmounts = profile.signedAmounts
        profiled.floatAmounts = profile.floatAmounts
        profiled.nullTokens = profile.nullTokens.map { Array($0.utf8) }
        profiled.rowLayout = profile.rowLayout
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
