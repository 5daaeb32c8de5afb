import BalanceModel
import BalanceSupport
import Dispatch
import Glibc

/// What a CSV file's records become once its header is known: the same for both halves of a
/// file read on two cores.
final class CSVRecordSink: Sendable {
    struct HeaderError: Error {
        var kind: RecordKind?
        var reason: String
    }

    let fileIndex: Int
    let kind: RecordKind
    let columns: [Int]
    let headerCount: Int
    let decoder: RecordDecoder
    /// Most runs have no value maps: then no lookup at all per record.
    let valueMaps: [Int: [[UInt8]: [UInt8]]]?
    let nullTokens: [[UInt8]]
    /// The profile's row layout resolved against this header, when it has one.
    let shape: RowShape?
    let naiveOffsetSeconds: Int64
    /// The columns naming each row's original file and line, when the header has them.
    let provenance: Provenance.Columns?

    init(header row: CSVRow, fileIndex: Int, options: IngestOptions) throws(HeaderError) {
        var names: [String] = []
        var written: [String] = []
        for index in 0..<row.count {
            guard let name = row.string(index) else {
                throw HeaderError(kind: nil, reason: options.encoding == .utf8
                    ? "the header is not valid UTF-8 (a Windows-1251 export? declare it: --encoding cp1251, or encoding: in the profile)"
                    : "the header is not valid UTF-8")
            }
            names.append(options.mapping.canonicalName(name))
            written.append(name)
        }
        // A layout's amount columns stand for `amount` and `type`, content ids for `id`.
        var present = Set(names)
        let layout = options.rowLayout
        if layout.idsFromContent { present.insert("id") }
        if !layout.amountColumns.isEmpty { present.formUnion(["amount", "type"]) }
        guard let detected = RecordKind.detect(fromHeader: present) else {
            throw HeaderError(kind: RecordKind.nearest(fromHeader: present), reason: RecordKind.undetectedReason(written: written, present: present))
        }
        // Two columns for one field have no one value: an error naming both, never "the first wins".
        for field in detected.fields {
            let columns = names.indices.filter { names[$0] == field }
            if columns.count > 1 {
                let both = columns.prefix(2).map { "\($0 + 1) (\(written[$0]))" }.joined(separator: " and ")
                throw HeaderError(kind: detected, reason: "columns \(both) both give the field \(field)")
            }
        }
        let missing = detected.requiredFields.filter { !present.contains($0) }
        if !missing.isEmpty {
            throw HeaderError(kind: detected, reason: detected.missingReason(missing))
        }
        self.fileIndex = fileIndex
        self.kind = detected
        self.columns = detected.fields.map { names.firstIndex(of: $0) ?? -1 }
        self.headerCount = row.count
        self.decoder = RecordDecoder(options, decimalMark: options.decimalMark ?? (row.delimiter == UInt8(ascii: ";") ? .pointOrComma : .point))
        self.valueMaps = options.values.isEmpty ? nil : options.values.byField[detected]
        self.nullTokens = options.nullTokens
        self.shape = detected == .transaction && !layout.isEmpty ? try RowShape(layout, header: written) : nil
        self.naiveOffsetSeconds = options.naiveOffsetSeconds
        self.provenance = try Provenance.Columns(names: names, written: written)
    }

    /// A row with nothing in it: every field empty (`,,,,` from a spreadsheet), or the Ctrl-Z
    /// (0x1A) some Windows tools end a text file with. Not a record; counted as a blank row.
    static func isBlank(_ row: CSVRow) -> Bool {
        if row.count == 1 && row.withField(0, { $0.count == 1 && $0[0] == 0x1A }) { return true }
        for index in 0..<row.count where row.withField(index, { !$0.isEmpty }) { return false }
        return true
    }

    /// Decodes one row; returns how many records it was (a layout with several amount columns
    /// makes several of one row).
    func take(_ row: CSVRow, into export: inout IngestedExport) -> Int {
        var source = SourceLocation(file: fileIndex, line: row.line)
        let fields = CSVFields(row: row, columns: columns, nullTokens: nullTokens)
        guard row.count == headerCount else {
            export.rejections.append(Rejection(
                source: source, kind: kind, reason: "expected \(headerCount) fields, found \(row.count)",
                recordID: Ingestor.fieldText(fields, kind), amount: nil))
            return 1
        }
        if let provenance {
            switch provenance.origin(of: row, kind: kind, into: &export) {
            case .own: break
            case .original(let original):
                // Counted on the original file, where the record came from, not on this one.
                source = original
                var produced = 1
                if let shape { produced = takeShaped(row, fields, shape, source, into: &export) } else { decode(fields, source, into: &export) }
                export.files[Int(original.file)].records += produced
                return 0
            case .invalid(let reason):
                export.rejections.append(Ingestor.rejection(fields, kind: kind, source: source, reason: reason, decoder: decoder))
                return 1
            }
        }
        if let shape { return takeShaped(row, fields, shape, source, into: &export) }
        decode(fields, source, into: &export)
        return 1
    }

    private func decode<F: SourceFields>(_ fields: F, _ source: SourceLocation, into export: inout IngestedExport) {
        if let valueMaps {
            Ingestor.decode(ValueMappedFields(base: fields, maps: valueMaps), kind: kind, source: source, decoder: decoder, into: &export)
        } else {
            Ingestor.decode(fields, kind: kind, source: source, decoder: decoder, into: &export)
        }
    }

    private func isZeroOrEmpty(_ row: CSVRow, _ column: Int) -> Bool {
        row.withField(column) { bytes in
            if bytes.isEmpty || nullTokens.contains(where: { $0.elementsEqual(bytes) }) { return true }
            return (try? AmountParser.parse(bytes, mark: decoder.options.decimalMark, allowNegative: true))?.isZero == true
        }
    }

    private func text(_ row: CSVRow, _ column: Int?) -> String {
        guard let column else { return "" }
        return row.withField(column) { bytes in
            nullTokens.contains(where: { $0.elementsEqual(bytes) }) ? "" : validUTF8String(bytes) ?? ""
        }
    }

    /// A row of a profile's own layout: its amount columns one record each, its id from the
    /// content where the file has none, its client and its day noted.
    private func takeShaped(_ row: CSVRow, _ fields: CSVFields, _ shape: RowShape, _ source: SourceLocation,
                            into export: inout IngestedExport) -> Int {
        let client = rowPartnerClient(row, fields, shape)
        let baseID: String? = columns[0] < 0
            ? (shape.idsFromFields ? fieldsID(row, fields, client: client, shape: shape, file: Int(source.file), into: &export)
                : RowShape.contentID(row, skipping: provenance)) : nil
        let amounts: [(index: Int, name: String, kind: TransactionKind)?] = shape.amountColumns.isEmpty ? [nil] : shape.amountColumns
        let invoice = shape.invoice.map { $0.read(row, fields, nullTokens: nullTokens, options: decoder.options, into: &export.invoices) }
        var produced = 0
        for (position, column) in amounts.enumerated() {
            if position > 0, let column, isZeroOrEmpty(row, column.index) { continue }
            var id: [UInt8]? = baseID.map { Array($0.utf8) }
            if amounts.count > 1, let column {
                id = (id ?? fields.withField(0) { Array($0) }) + Array("-\(column.name)".utf8)
            }
            let derived = DerivedFields(base: fields, row: row, id: id, type: column.map { Array($0.kind.rawValue.utf8) },
                                        amountColumn: column?.index, nullTokens: nullTokens, client: client,
                                        timestamp: invoice?.timestamp, description: invoice?.description)
            let before = export.transactions.count
            decode(derived, source, into: &export)
            produced += 1
            guard export.transactions.count > before else { continue }
            if let fact = invoice?.fact { export.invoices.record(id: export.transactions.id(export.transactions.count - 1), index: fact) }
            if let dayColumn = shape.dayColumn, let versionColumn = shape.versionColumn {
                let version = row.withField(versionColumn) { bytes in
                    try? TimestampParser.parse(bytes, naiveOffsetSeconds: naiveOffsetSeconds, format: nil)
                }
                guard let version else {
                    let transaction = export.transactions.removeLast()
                    export.rejections.append(Rejection(source: source, kind: .transaction,
                                                       reason: "\(text(row, versionColumn).isEmpty ? "the export time is empty" : "the export time is not a timestamp") (the profile's supersede version)",
                                                       recordID: transaction.id, amount: transaction.amount))
                    continue
                }
                export.supersedeEntries.append(SupersedeEntry(transaction: export.transactions.count - 1,
                                                              day: ByteKey(text(row, dayColumn)), version: version))
            }
            if shape.derivesClients {
                // The client's id alone (the row's other fields are not made into strings).
                let clientID = export.transactions.clientID(export.transactions.count - 1)
                if export.derivedClientIDs.insert(ByteKey(clientID)).inserted {
                    let partner = text(row, shape.partnerColumn)
                    export.derivedClients.append(ClientRecord(id: clientID, name: text(row, shape.nameColumn), email: "",
                                                              phone: "", partnerID: partner.isEmpty ? "default" : partner,
                                                              checkpoint: nil, source: source))
                }
            }
        }
        return produced
    }

    /// The row's client as a `RowPartnerKey` when the layout names the partner in every row and
    /// this row names one (a row without a partner is `default`'s, as before).
    private func rowPartnerClient(_ row: CSVRow, _ fields: CSVFields, _ shape: RowShape) -> [UInt8]? {
        guard shape.derivesClients, let column = shape.partnerColumn else { return nil }
        let partner: [UInt8] = row.withField(column) { bytes in
            nullTokens.contains(where: { $0.elementsEqual(bytes) }) ? [] : Array(bytes)
        }
        guard !partner.isEmpty else { return nil }
        return fields.withField(2) { RowPartnerKey.encode(partner: partner, client: $0) }
    }

    func malformed(_ error: CSVError, into export: inout IngestedExport) {
        export.rejections.append(Rejection(source: SourceLocation(file: fileIndex, line: error.line), kind: kind,
                                           reason: error.reason, isRecord: true))
    }
}

/// The records of a CSV file from a line start to its end, read on their own with lines
/// numbered from 1 there; `append` renumbers them once the line of that start is known.
struct CSVPart: Sendable {
    var export = IngestedExport()
    var records = 0
    var blankRows = 0
    /// What ended reading early (an unterminated quote, a read failure), thrown again by `append`
    /// after the records before it, as reading the file in one go would have.
    var failure: CSVError? = nil

    static func read(source: InputSource, from offset: Int, sink: CSVRecordSink, delimiter: UInt8) -> CSVPart {
        var part = CSVPart()
        if sink.kind == .transaction {
            let rest: Int = max(0, source.size - offset)
            let rows: Int = Ingestor.estimatedRows(source)
            if source.size > 0 { part.export.transactions.reserveCapacity(rows / 64 * rest / (source.size / 64 + 1)) }
        }
        do {
            var reader = source.csvReader(from: offset)
            reader.declaredDelimiter = delimiter
            try reader.read(onRow: { row in
                if CSVRecordSink.isBlank(row) { part.blankRows += 1; return }
                part.records += sink.take(row, into: &part.export)
            }, onMalformed: { error in
                part.records += 1
                sink.malformed(error, into: &part.export)
            })
        } catch let error as CSVError {
            part.failure = error
        } catch {
            part.failure = CSVError(line: 0, reason: "\(error)")
        }
        return part
    }

    /// Starts reading on another thread; `finish` waits for it.
    static func start(source: InputSource, from offset: Int, sink: CSVRecordSink, delimiter: UInt8) -> Pending {
        let pending = Pending(offset: offset)
        pending.group.enter()
        nonisolated(unsafe) let source = source
        DispatchQueue.global().async {
            pending.result = read(source: source, from: offset, sink: sink, delimiter: delimiter)
            pending.group.leave()
        }
        return pending
    }

    final class Pending: @unchecked Sendable {
        let offset: Int
        let group = DispatchGroup()
        /// Written by the reading thread before `leave`, read only after `wait`.
        var result = CSVPart()
        private var taken = false

        init(offset: Int) { self.offset = offset }

        func finish() -> CSVPart {
            group.wait()
            if taken { return CSVPart() }
            taken = true
            return result
        }
    }

    consuming func append(to target: inout IngestedExport, lineOffset: Int) throws(CSVError) {
        let shift = Int32(truncatingIfNeeded: lineOffset)
        for index in export.clients.indices { export.clients[index].source.line += shift }
        for index in export.events.indices { export.events[index].source.line += shift }
        for index in export.rejections.indices { export.rejections[index].source.line += shift }
        for index in export.derivedClients.indices { export.derivedClients[index].source.line += shift }
        for entry in export.supersedeEntries {
            var moved = entry
            moved.transaction += target.transactions.count
            target.supersedeEntries.append(moved)
        }
        for client in export.derivedClients where target.derivedClientIDs.insert(ByteKey(client.id)).inserted {
            target.derivedClients.append(client)
        }
        target.transactions.append(contentsOf: export.transactions, lineShift: shift)
        target.clients.append(contentsOf: export.clients)
        target.events.append(contentsOf: export.events)
        target.rejections.append(contentsOf: export.rejections)
        target.amountRounding = target.amountRounding.merging(export.amountRounding) { var sum = $0; sum.merge($1); return sum }
        target.invoices.merge(export.invoices)
        if var failure {
            failure.line += lineOffset
            throw failure
        }
    }
}

/// A CSV row seen through the schema's field order; a profile's null tokens read as empty.
struct CSVFields: SourceFields {
    let row: CSVRow
    let columns: [Int]
    var nullTokens: [[UInt8]] = []

    func withField<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if nullTokens.isEmpty { return try row.withField(columns[index], body) }
        return try row.withField(columns[index]) { bytes in
            if nullTokens.contains(where: { $0.elementsEqual(bytes) }) { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
            return try body(bytes)
        }
    }
}
