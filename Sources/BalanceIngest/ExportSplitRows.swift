import BalanceModel
import BalanceSupport

/// The Spark route for layouts that name clients (and partners) in their rows (`focus`,
/// `yandex-cloud-partner`: `clients_from_rows`, `supersede`, content and field ids, amount columns).
///
/// Their records cannot be cut into canonical SPEC rows: which client a row makes, its partner, its
/// id (counted among identical rows of its file) and whether a later export of its day supersedes
/// it all depend on the row as the profile reads it. So each row that gave a record is passed on as
/// it was read (every field, re-quoted, in UTF-8, the file's delimiter) with the provenance columns,
/// and each partner's render reads it again with the same profile: the same records, named by the
/// same file and line, as one run makes of them. Lines that gave no record (rejected, blank) stay in
/// the file's input part alone.
///
/// Lines of the rows file for such a file: first `header 0 <empty> <flags-hex> <header-base64>`
/// (flags: `supersede` when a day's exports must be compared across the whole run), then per row
/// `raw <seq> <client-hex> <id-hex> <row-base64> <partner-hex>`: the client id a clients file would
/// name it by (the row's own, without its partner), the first record's id, and the partner the row
/// names (empty: none).
extension ExportSplit {
    /// Whether the file at `path` is read through a row layout (and so is passed on as its rows).
    public static func passesRows(_ export: IngestedExport, options: IngestOptions, path: String) -> Bool {
        guard let file = export.files.first, file.format == .csv, file.kinds == [.transaction] else { return false }
        return !options.forFile(path).rowLayout.isEmpty
    }

    /// The rows file's lines for a file read through a row layout, and the lines it passes on
    /// (their records are counted by the renders, not by the file's input part).
    public static func rawLines(_ export: IngestedExport, options: IngestOptions, path: String) throws -> (lines: [UInt8], passed: Set<Int32>) {
        let fileOptions = options.forFile(path)
        var keys: [Int32: (client: String, id: String, partner: String)] = [:]
        func note(_ transaction: Transaction) {
            guard keys[transaction.source.line] == nil else { return }
            let decoded = RowPartnerKey.decode(transaction.clientID)
            keys[transaction.source.line] = (decoded?.client ?? transaction.clientID, transaction.id, decoded?.partner ?? "")
        }
        for transaction in export.transactions { note(transaction) }
        for transaction in export.superseded { note(transaction) }
        var out: [UInt8] = []
        var row: [UInt8] = []
        var seq = 0
        var headerSeen = false
        let input = try EncodedCSVInput.open(try InputSource.open(path), declared: fileOptions.encoding)
        var reader = input.reader
        reader.declaredDelimiter = fileOptions.delimiter
        func fields(_ csv: CSVRow, extra: [[UInt8]]) {
            row.removeAll(keepingCapacity: true)
            for index in 0..<csv.count {
                if index > 0 { row.append(csv.delimiter) }
                csv.withField(index) { quote(Array($0), into: &row) }
            }
            for field in extra {
                row.append(csv.delimiter)
                quote(field, into: &row)
            }
            row.append(0x0A)
        }
        try reader.read(onRow: { csv in
            if !headerSeen {
                headerSeen = true
                fields(csv, extra: [Array(Provenance.fileColumn.utf8), Array(Provenance.lineColumn.utf8)])
                out.append(contentsOf: "header\t0\t\t".utf8)
                Hex.append((fileOptions.rowLayout.supersedeDay != nil ? "supersede" : "").utf8, to: &out)
                out.append(0x09)
                Base64.append(row, to: &out)
                out.append(contentsOf: "\t\n".utf8)
                return
            }
            guard let key = keys[Int32(truncatingIfNeeded: csv.line)] else { return }
            fields(csv, extra: [Array(path.utf8), Array(String(csv.line).utf8)])
            out.append(contentsOf: "raw\t\(seq)\t".utf8)
            Hex.append(key.client.utf8, to: &out)
            out.append(0x09)
            Hex.append(key.id.utf8, to: &out)
            out.append(0x09)
            Base64.append(row, to: &out)
            out.append(0x09)
            Hex.append(key.partner.utf8, to: &out)
            out.append(0x0A)
            seq += 1
        }, onMalformed: { _ in })
        _ = input.finish()
        return (out, Set(keys.keys))
    }

    static func quote(_ bytes: [UInt8], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }
}
