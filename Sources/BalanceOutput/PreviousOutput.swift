import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
import Glibc

/// `--compare-with DIR`: an earlier output of the tool, read back as the earlier side of a
/// comparison (`Report/Comparison.swift`).
///
/// What it trusts and what it refuses (exit 1, the file named):
/// * `DIR` must hold the marker `.balance-report-output` (first line `balance-report output 1`,
///   then `period FIRST LAST`): a folder without one, or with a damaged one, is not an output.
/// * The earlier period must end before the current one starts: an overlapping, equal or later
///   period is refused (the comparison is "since then").
/// * Only files the marker lists are read (`P/snapshot.csv`, the clients listed then, and
///   `P/services.csv`, their spend per service), each opened below `DIR` without following a
///   symbolic link, only when it is a regular file, and read up to `maxFileBytes`: a link out of
///   the folder, a pipe or an endless file cannot make the run read elsewhere or hang.
/// * The CSV must be one of the two dialects the tool writes: standard (`,`, `.`, no BOM) or
///   excel-ru (BOM, `;`, decimal comma), with the built-in header; amounts are read exactly by
///   the tool's own amount parser, and a cell the tool neutralised against spreadsheet formulas
///   (a quoted cell `'=…`) is read back without its `'`.
/// * A partner of the current run whose folder the earlier output does not have had no listed
///   client then: every client of it is new. Partners only in the earlier output are not shown.
public enum PreviousOutput {
    /// Largest CSV file read back.
    public static let maxFileBytes = 1 << 30
    static let markerLimit = 64 << 20

    public struct Contents: Sendable {
        public var period: ReportPeriod
        /// By partner folder name (`FileNames.safeName` of the partner id), then currency: each
        /// currency is compared with itself only (SPEC §2.1).
        public var partners: [ByteKey: [String: PeriodSpend]]
    }

    /// Checks `dir`'s marker and period for a run of `current`: called before the exports are
    /// read, so that a wrong folder costs no full read (`read` checks it again).
    public static func check(_ dir: String, current: ReportPeriod) throws(Diagnostic) {
        let root = try openFolder(dir)
        defer { close(root) }
        _ = try marker(root, dir, current: current)
    }

    /// Reads `dir` for a run of `current`, for the partners whose folders are `folders`, each
    /// partner's spend per currency. The earlier output's currencies are the ones its
    /// `summary.json` says: one (`"currency"`), whose rows have no currency column, or several
    /// (`"currencies"`), whose rows say theirs. Without a `summary.json`, rows are in `currency`.
    public static func read(_ dir: String, current: ReportPeriod, folders: [String], currency: String = "RUB") throws(Diagnostic) -> Contents {
        let root = try openFolder(dir)
        defer { close(root) }
        let (marker, period) = try self.marker(root, dir, current: current)
        let markerPath = FileSystem.joined(dir, OutputFolder.markerName)
        let listed = Set(marker.files.map { ByteKey($0) })
        // nil: the rows say their currency.
        var rowsCurrency: String? = currency
        if listed.contains(ByteKey(OutputFiles.summary)) {
            let shown = FileSystem.joined(dir, OutputFiles.summary)
            let summary = try readFile(root, [OutputFiles.summary], limit: maxFileBytes, shown: shown, missingIsNil: false)!
            switch summaryCurrency(summary) {
            case .one(let code): rowsCurrency = code
            case .several: rowsCurrency = nil
            case nil: throw Diagnostic("\(shown) does not say the currency of the earlier output: it cannot be compared")
            }
        }
        var partners: [ByteKey: [String: PeriodSpend]] = [:]
        for folder in folders {
            let snapshot = folder + "/snapshot.csv"
            let services = folder + "/services.csv"
            guard listed.contains(ByteKey(snapshot)) else { continue }
            guard listed.contains(ByteKey(services)) else {
                throw Diagnostic("\(markerPath) lists \(snapshot) but not \(services): not a complete output")
            }
            func load(_ name: String) throws(Diagnostic) -> [UInt8] {
                try readFile(root, [folder, name], limit: maxFileBytes, shown: FileSystem.joined(dir, folder + "/" + name), missingIsNil: false)!
            }
            partners[ByteKey(folder)] = try spend(snapshot: load(OutputFiles.snapshot), services: load(OutputFiles.services), period: period,
                                                  currency: rowsCurrency,
                                                  shownAs: (FileSystem.joined(dir, snapshot), FileSystem.joined(dir, services)))
        }
        return Contents(period: period, partners: partners)
    }

    /// The marker of `dir` (open as `root`) and its period, refused unless it is before `current`.
    static func marker(_ root: Int32, _ dir: String, current: ReportPeriod) throws(Diagnostic) -> (OutputFolder.Marker, ReportPeriod) {
        let markerPath = FileSystem.joined(dir, OutputFolder.markerName)
        guard let markerBytes = try readFile(root, [OutputFolder.markerName], limit: markerLimit, shown: markerPath, missingIsNil: true) else {
            throw Diagnostic("--compare-with \(dir) is not an output of balance-report (it has no \(OutputFolder.markerName))")
        }
        guard markerBytes.split(separator: 0x0A, maxSplits: 1, omittingEmptySubsequences: false).first.map(Array.init) == Array(OutputFolder.markerHeader.utf8),
              let marker = OutputFolder.Marker.parse(markerBytes) else {
            throw Diagnostic("\(markerPath) is not the marker of a balance-report output (its first line is not '\(OutputFolder.markerHeader)', or it is damaged)")
        }
        guard let first = marker.firstDay, let last = marker.lastDay, let period = try? ReportPeriod(firstDay: first, lastDay: last) else {
            throw Diagnostic("\(markerPath) does not say which period the output is of (no 'period FIRST LAST' line)")
        }
        guard period.lastDay < current.firstDay else {
            throw Diagnostic("--compare-with \(dir) is of \(period.label), which is not before \(current.label): "
                + "the earlier output must be of a period that ends before this one starts")
        }
        return (marker, period)
    }

    enum SummaryCurrency: Equatable { case one(String), several }

    /// The top-level `"currency": "…"` or `"currencies": [` of a `summary.json` the tool wrote
    /// (whichever comes first: it comes before any other object holding such a key).
    static func summaryCurrency(_ bytes: [UInt8]) -> SummaryCurrency? {
        let key = Array("\"currency\": \"".utf8)
        let several = Array("\"currencies\": [".utf8)
        var index = 0
        while index + key.count <= bytes.count {
            if bytes[index] == key[0], bytes[index..<index + key.count].elementsEqual(key) {
                let start = index + key.count
                guard let end = bytes[start...].prefix(64).firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                return String(validating: bytes[start..<end], as: UTF8.self).map { .one($0) }
            }
            if index + several.count <= bytes.count, bytes[index..<index + several.count].elementsEqual(several) { return .several }
            index += 1
        }
        return nil
    }

    static func openFolder(_ dir: String) throws(Diagnostic) -> Int32 {
        let root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw Diagnostic("--compare-with \(dir): cannot open the folder: \(FileSystem.lastError)") }
        return root
    }

    /// A partner's earlier spend per currency from its `snapshot.csv` (who was listed) and
    /// `services.csv`. `currency`: the rows' one currency; `nil`: each row says its own (a run of
    /// several), and a listed client whose money was not shown (no currency) is in the partner's
    /// first currency, as a run of several lists it.
    static func spend(snapshot: [UInt8], services: [UInt8], period: ReportPeriod, currency: String? = "RUB",
                      shownAs: (snapshot: String, services: String)) throws(Diagnostic) -> [String: PeriodSpend] {
        let currencyColumn = currency == nil ? ["currency"] : []
        var clients: [PeriodSpend.Client] = []
        var currencyOf: [String] = []
        var known: [[ByteKey]: Int] = [:]
        try parse(snapshot, shown: shownAs.snapshot, header: ["client_id", "name", "closing_balance"] + currencyColumn,
                  exactHeader: false) { (fields, _, line) throws(Diagnostic) in
            let id = fields[0]
            let code = currency ?? fields[3]
            // A code, or empty where the money was not shown (`closing_balance` empty too).
            let shown = !fields[2].isEmpty
            if code.isEmpty ? shown : !CurrencyCode.isValid(code) {
                throw Diagnostic("\(shownAs.snapshot):\(line): currency '\(code)' is not a three-letter code")
            }
            guard known[[ByteKey(id), ByteKey(code)]] == nil else {
                throw Diagnostic("\(shownAs.snapshot):\(line): client \(id) is listed twice\(currency == nil ? " in \(code)" : "")")
            }
            known[[ByteKey(id), ByteKey(code)]] = clients.count
            // The money columns are empty where the partner did not see the client's money.
            clients.append(PeriodSpend.Client(id: id, name: fields[1], services: [], moneyShown: !fields[2].isEmpty))
            currencyOf.append(code)
        }
        var perClient: [[PeriodSpend.Service]] = Array(repeating: [], count: clients.count)
        var seen = Set<[ByteKey]>()
        try parse(services, shown: shownAs.services, header: ["client_id", "service", "charged", "refunded", "net"] + currencyColumn,
                  exactHeader: true, amounts: [4]) { (fields, amounts, line) throws(Diagnostic) in
            let code = currency ?? fields[5]
            guard CurrencyCode.isValid(code) else {
                throw Diagnostic("\(shownAs.services):\(line): currency '\(code)' is not a three-letter code")
            }
            guard let slot = known[[ByteKey(fields[0]), ByteKey(code)]] else {
                throw Diagnostic("\(shownAs.services):\(line): client \(fields[0]) is not in \(shownAs.snapshot)\(currency == nil ? " in \(code)" : "")")
            }
            guard seen.insert([ByteKey(fields[0]), ByteKey(fields[1]), ByteKey(code)]).inserted else {
                throw Diagnostic("\(shownAs.services):\(line): client \(fields[0]) and service \(fields[1]) appear twice")
            }
            perClient[slot].append(PeriodSpend.Service(service: fields[1], net: amounts[0]))
        }
        let first = currencyOf.filter { !$0.isEmpty }.min(by: byteOrder) ?? ""
        var byCurrency: [String: [PeriodSpend.Client]] = [:]
        for index in clients.indices {
            clients[index].services = perClient[index].sorted { byteOrder($0.service, $1.service) }
            byCurrency[currencyOf[index].isEmpty ? first : currencyOf[index], default: []].append(clients[index])
        }
        return byCurrency.mapValues { PeriodSpend(period: period, clients: $0) }
    }

    /// Parses one of the tool's CSV files: checks its dialect and header, hands each record's
    /// fields (formula neutralisation undone) and the exact
    /// amounts of the `amounts` columns to `row`.
    static func parse(_ bytes: [UInt8], shown: String, header: [String], exactHeader: Bool, amounts: [Int] = [],
                      row: ([String], [Money], Int) throws(Diagnostic) -> Void) throws(Diagnostic) {
        let hasBOM = bytes.starts(with: [0xEF, 0xBB, 0xBF])
        let empty = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard empty >= 0 else { throw Diagnostic("cannot open /dev/null: \(FileSystem.lastError)") }
        defer { close(empty) }
        var reader = CSVReader(descriptor: empty, prefix: bytes)
        var failure: Diagnostic? = nil
        var columns: [Int] = []
        var width = 0
        var first = true
        do {
            try reader.read(onRow: { (record: CSVRow) throws in
                guard failure == nil else { return }
                if first {
                    first = false
                    let names = (0..<record.count).map { record.string($0) ?? "" }
                    let standard = !hasBOM && record.delimiter == UInt8(ascii: ",")
                    let excel = hasBOM && record.delimiter == UInt8(ascii: ";")
                    guard standard || excel else {
                        failure = Diagnostic("\(shown): neither CSV dialect balance-report writes (standard: ',' without BOM; excel-ru: ';' with BOM)")
                        return
                    }
                    if exactHeader ? names != header : !header.allSatisfy(names.contains) {
                        failure = Diagnostic("\(shown):1: the header is not the one balance-report writes (\(header.joined(separator: ","))\(exactHeader ? "" : ",…")); "
                            + "an output rendered with edited templates cannot be compared with")
                        return
                    }
                    columns = header.map { names.firstIndex(of: $0)! }
                    width = names.count
                    return
                }
                guard record.count == width else {
                    failure = Diagnostic("\(shown):\(record.line): \(record.count) fields, the header has \(width)")
                    return
                }
                var fields: [String] = []
                var money: [Money] = []
                for (position, column) in columns.enumerated() {
                    guard let text = record.string(column) else {
                        failure = Diagnostic("\(shown):\(record.line): not UTF-8 text")
                        return
                    }
                    if amounts.contains(position) {
                        let mark: DecimalMark = record.delimiter == UInt8(ascii: ";") ? .comma : .point
                        do { money.append(try AmountParser.parse(text, mark: mark, allowNegative: true)) } catch {
                            failure = Diagnostic("\(shown):\(record.line): \(header[position]): \(error)")
                            return
                        }
                    }
                    fields.append(record.isQuoted(column) ? unneutralised(text) : text)
                }
                do throws(Diagnostic) { try row(fields, money, record.line) } catch { failure = error }
            }, onMalformed: { (error: CSVError) in
                if failure == nil { failure = Diagnostic("\(shown):\(error.line): \(error.reason)") }
            })
        } catch let error as CSVError {
            throw Diagnostic("\(shown):\(error.line): \(error.reason)")
        } catch {
            throw Diagnostic("\(shown): \(error)")
        }
        if let failure { throw failure }
        if first { throw Diagnostic("\(shown) is empty (no header)") }
    }

    /// A quoted cell the tool neutralised (`Escaping.appendCSVCell`: a `'` before `= + - @`, tab,
    /// CR, LF or NUL) read back as the text it was. A quoted cell that really began with `'=` and
    /// holds a delimiter or quote is written the same way and is read as the neutralised text.
    static func unneutralised(_ text: String) -> String {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "'"),
              [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D, 0x0A, 0x00].contains(utf8[1]) else { return text }
        return String(decoding: utf8.dropFirst(), as: UTF8.self)
    }

    /// A file below `root`, each component opened without following a link; only a regular file,
    /// at most `limit` bytes. `nil` when it is missing and `missingIsNil`.
    static func readFile(_ root: Int32, _ components: [String], limit: Int, shown: String, missingIsNil: Bool) throws(Diagnostic) -> [UInt8]? {
        var fd = root
        var opened: [Int32] = []
        defer { for descriptor in opened { close(descriptor) } }
        for (index, component) in components.enumerated() {
            let last = index == components.count - 1
            let next = openat(fd, component, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (last ? 0 : O_DIRECTORY))
            guard next >= 0 else {
                if errno == ENOENT && missingIsNil { return nil }
                if errno == ELOOP || errno == ENOTDIR { throw Diagnostic("\(shown) is reached through a symbolic link or is not a folder's file; it is not read") }
                throw Diagnostic("cannot open \(shown): \(FileSystem.lastError)")
            }
            opened.append(next)
            fd = next
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw Diagnostic("\(shown) is not a regular file; it is not read")
        }
        guard Int(info.st_size) <= limit else { throw Diagnostic("\(shown) is larger than \(limit >> 20) MiB; it is not read") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw Diagnostic("cannot read \(shown): \(FileSystem.lastError)")
            }
            if got == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<got])
            // A file that grows while it is read stops here too.
            if bytes.count > limit { throw Diagnostic("\(shown) is larger than \(limit >> 20) MiB; it is not read") }
        }
    }
}

extension CSVRow {
    /// Whether field `index` was written in quotes (its first byte follows an opening quote).
    func isQuoted(_ index: Int) -> Bool {
        guard index >= 0 && index < spans.count, spans[index].start > 0 else { return false }
        return base[spans[index].start - 1] == UInt8(ascii: "\"")
    }
}
