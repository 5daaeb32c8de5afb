import BalanceModel
import BalanceSupport

/// `row_ids: fields`: ids for a layout without an id column whose versions differ in their columns
/// (FOCUS 1.0 … 1.3 and snake_case exports of one billing account overlap).
///
/// `row_ids: content` hashes every field of the row, so the same charge in a FOCUS 1.0 and a 1.2
/// export (other columns) got two ids and was counted twice, while two identical rows of one file
/// were taken for one. Here the id hashes only what the run reads of the row, as values: the
/// instant (not its spelling), the amount as read (`8.0E-7` and `0.0000008` are one), the client
/// with its partner, the type, service, currency, description and the client's name; and it
/// counts the row's occurrence among identical rows of its file. So a file is a multiset of
/// charges: a row repeated within one export is that many charges (`row-…`, `row-…-2`, …), and
/// the same rows in two overlapping exports, of any versions, are duplicates, counted once.
extension CSVRecordSink {
    /// `file`: the row's original file (its own, or the one its provenance columns name), whose
    /// identical rows are counted.
    func fieldsID(_ row: CSVRow, _ fields: CSVFields, client: [UInt8]?, shape: RowShape, file: Int, into export: inout IngestedExport) -> String {
        var hash = FNV1a128()
        func add(_ bytes: some Sequence<UInt8>) {
            hash.add(bytes)
            hash.add(CollectionOfOne(0x1F))
        }
        let options = decoder.options
        fields.withField(1) { bytes in
            if let instant = try? TimestampParser.parse(bytes, naiveOffsetSeconds: options.naiveOffsetSeconds, format: options.timestampFormat) {
                add(String(instant.seconds).utf8)
                add(String(instant.nanoseconds).utf8)
            } else {
                add(bytes)
            }
        }
        if let client { add(client) } else { fields.withField(2) { add($0) } }
        for index in 3...7 where index != 5 { fields.withField(index) { add($0) } }
        fields.withField(5) { bytes in
            let money: Money? = options.floatAmounts
                ? (try? FloatAmountParser.parse(bytes, allowNegative: true))?.money
                : try? AmountParser.parse(bytes, mark: options.decimalMark, allowNegative: true)
            if let money { add(money.description.utf8) } else { add(bytes) }
        }
        if let column = shape.nameColumn {
            row.withField(column) { bytes in add(nullTokens.contains(where: { $0.elementsEqual(bytes) }) ? [] : Array(bytes)) }
        }
        let base = RowShape.rowID(hash)
        var key = FNV1a128()
        key.add(String(file).utf8)
        key.add(CollectionOfOne(0x1F))
        key.add(base.utf8)
        let occurrence = export.rowOccurrences[key.value, default: 0] + 1
        export.rowOccurrences[key.value] = occurrence
        return occurrence == 1 ? base : base + "-" + String(occurrence)
    }
}
