import BalanceModel
import BalanceSupport
import BalanceSupport
/// Provenance columns: a CSV row may name the original export file and line it came from, so that
/// a run over files cut out of the originals (the Spark route, `scale/spark/`, writes one input set
/// per partner) names every record where it really is: messages, `rejects.csv` and the per-file
/// counts of the run summary then give the original `file:line`, never the cut-out file's.
///
/// A row that gives neither (both cells empty) is the file's own, as in any export; a row that gives
/// one without the other, or a line that is not a line number, is rejected at its own place. The
/// named path is data like any other: escaped in pages, neutralised in CSV, written as `\u{…}` on
/// a terminal. It is never opened: it only names the record.
public enum Provenance {
    /// Column names that no export of the billing system uses (SPEC §2 has no `balance_report_…`).
    public static let fileColumn = "balance_report_source_file"
    public static let lineColumn = "balance_report_source_line"

    struct Columns: Sendable {
        let file: Int
        let line: Int

        /// `nil` when the header has neither column; an error when it has only one, or one twice.
        init?(names: [String], written: [String]) throws(CSVRecordSink.HeaderError) {
            let files = names.indices.filter { names[$0] == Provenance.fileColumn }
            let lines = names.indices.filter { names[$0] == Provenance.lineColumn }
            if files.isEmpty && lines.isEmpty { return nil }
            guard files.count == 1, lines.count == 1 else {
                throw CSVRecordSink.HeaderError(kind: nil, reason: files.count > 1 || lines.count > 1
                    ? "a provenance column is given twice"
                    : "the provenance columns \(Provenance.fileColumn) and \(Provenance.lineColumn) go together")
            }
            file = files[0]
            line = lines[0]
        }

        enum Origin {
            /// The row names no other place: it is this file's, at its own line.
            case own
            case original(SourceLocation)
            case invalid(String)
        }

        /// Where the row came from; an original file seen for the first time joins the run's file list.
        func origin(of row: CSVRow, kind: RecordKind, into export: inout IngestedExport) -> Origin {
            let path = row.withField(file) { validUTF8String($0) }
            let lineText = row.withField(line) { validUTF8String($0) }
            guard let path, let lineText else { return .invalid("a provenance column is not valid UTF-8") }
            if path.isEmpty && lineText.isEmpty { return .own }
            if path.isEmpty { return .invalid("\(Provenance.lineColumn) is given without \(Provenance.fileColumn)") }
            // Plain decimal digits, 1 or more: the 1-based line the record starts on.
            guard !lineText.isEmpty, lineText.utf8.count <= 10, lineText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let number = Int(lineText), number >= 1, number <= Int(Int32.max) else {
                return .invalid("\(Provenance.lineColumn) '\(lineText)' is not a line number")
            }
            let key = ByteKey(path)
            let index: Int
            if let known = export.provenanceFiles[key] {
                index = known
            } else {
                index = export.files.count
                export.files.append(InputFile(path: path, format: .csv, kinds: [], records: 0, isProvenance: true))
                export.provenanceFiles[key] = index
            }
            if !export.files[index].kinds.contains(kind) {
                export.files[index].kinds = RecordKind.allCases.filter { export.files[index].kinds.contains($0) || $0 == kind }
            }
            return .original(SourceLocation(file: index, line: number))
        }
    }
}
