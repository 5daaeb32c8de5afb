import Dispatch
import Glibc

/// A record that could not be accepted, with the reason a person can act on.
public struct Rejection: Sendable, Equatable {
    public var source: SourceLocation
    public var kind: RecordKind?
    public var reason: String
    /// The record's id (transactions) or client id, when it could be read.
    public var recordID: String
    /// The record's amount when it could still be read: it belongs in the control totals.
    public var amount: Money?
    /// `false` for a problem with a whole file (no header, unterminated quote, not well-formed
    /// XML) rather than with one of its records.
    public var isRecord: Bool

    public init(source: SourceLocation, kind: RecordKind?, reason: String, recordID: String = "", amount: Money? = nil, isRecord: Bool = true) {
        self.source = source
        self.kind = kind
        self.reason = reason
        self.recordID = recordID
        self.amount = amount
        self.isRecord = isRecord
    }
}

/// How one input file was read.
public struct InputFile: Sendable, Equatable {
    public enum Format: String, Sendable, Codable { case csv, xml }
    public var path: String
    public var format: Format
    /// Kinds of records found (a CSV file has one, an XML export up to three).
    public var kinds: [RecordKind]
    /// Records read, whatever became of them.
    public var records: Int
    /// Rows with nothing in them (`,,,,`, a trailing Ctrl-Z): not records, but counted.
    public var blankRows: Int = 0
    /// A file named only by the provenance columns of another file's rows (`Provenance`): the
    /// original export those rows came from, never opened by this run.
    public var isProvenance = false
}

/// Everything read from a run's files: the boundary between Ingest and Model.
public struct IngestedExport: Sendable {
    public var files: [InputFile] = []
    public var transactions = TransactionTable()
    public var clients: [ClientRecord] = []
    public var events: [ClientEvent] = []
    public var rejections: [Rejection] = []
    /// Files that could not be read as a whole: the run stops (SPEC §3), whatever the flags.
    public var fileFailures: [FileFailure] = []
    /// Clients named by the rows of a layout without a clients file (`clients_from_rows`), each
    /// from its first row; used only when the run has no clients records.
    public var derivedClients: [ClientRecord] = []
    var derivedClientIDs = Set<ByteKey>()
    /// Where each transaction of a superseding layout stands (see `Supersession`).
    var supersedeEntries: [SupersedeEntry] = []
    /// Transactions of a day that a later export of the same day replaces: counted, never summed.
    public var superseded: [Transaction] = []
    /// The file-list entry of each original file named by provenance columns, by its path's bytes.
    var provenanceFiles: [ByteKey: Int] = [:]

    public init() {}

    public func location(_ source: SourceLocation) -> String {
        "\(path(of: Int(source.file))):\(source.line)"
    }

    public func path(of file: Int) -> String {
        file >= 0 && file < files.count ? files[file].path : "?"
    }

    /// `file:line: reason`, or `file: reason` where no line means anything.
    public func describe(_ failure: FileFailure) -> String {
        let path = path(of: failure.file)
        guard let line = failure.line, line > 0 else { return "\(path): \(failure.reason)" }
        return "\(path):\(line): \(failure.reason)"
    }

    /// A file of this kind was in the run, even one without rows (SPEC §3: a clients file with a
    /// header and no rows still means the run has clients records).
    public func hasFile(of kind: RecordKind) -> Bool {
        files.contains { $0.kinds.contains(kind) }
    }
}

/// Options of the Ingest stage.
public struct IngestOptions: Sendable {
    public var naiveOffsetSeconds: Int64
    public var mapping: HeaderMapping
    /// CSV text encoding (an import profile's `encoding`, `--encoding`).
    public var encoding: TextEncoding = .utf8
    /// CSV delimiter; `nil`: detected from each file's header line.
    public var delimiter: UInt8? = nil
    /// Decimal mark of amounts; `nil`: `.` in `,` files and XML, `.` or `,` in `;` files.
    public var decimalMark: DecimalMark? = nil
    /// A profile's timestamp layout, tried before the forms that cannot be mistaken for it.
    public var timestampFormat: TimestampFormat? = nil
    /// A profile's value renames (types, event types, currencies).
    public var values = ValueMaps()
    /// An import profile and the options of the files it is for (`forFile`).
    public var profiled: ProfiledOptions? = nil
    /// A profile's `signed_amounts` (see `DecodingOptions.signedAmounts`).
    public var signedAmounts = false
    /// A profile's `null_tokens`: field values that mean "no value" (`NULL`, `\N`), read as empty.
    public var nullTokens: [[UInt8]] = []
    /// A profile's row layout (derived ids, amount columns, clients from rows, superseding days).
    public var rowLayout = RowLayout()

    public init(naiveOffsetSeconds: Int64 = MoscowTime.offsetSeconds, mapping: HeaderMapping = HeaderMapping()) {
        self.naiveOffsetSeconds = naiveOffsetSeconds
        self.mapping = mapping
    }
}

/// Reads every input file, detects its kind and decodes its records.
public enum Ingestor {
    /// Opens every file (each exactly once), then reads them in order; a large CSV file is parsed
    /// on two cores when `workers` > 1. A file that cannot be read as a whole stops the reading:
    /// every file that cannot be opened is named at once, and a file refused while it is read
    /// (its header, its encoding, a DOCTYPE) is the last one read.
    public static func ingest(paths: [String], options: IngestOptions, workers: Int = 1) -> IngestedExport {
        var export = IngestedExport()
        var sources: [InputSource?] = []
        for (index, path) in paths.enumerated() {
            do {
                let source = try InputSource.open(path)
                sources.append(source)
                export.files.append(InputFile(path: path, format: source.looksLikeXML ? .xml : .csv, kinds: [], records: 0))
            } catch {
                sources.append(nil)
                export.files.append(InputFile(path: path, format: .csv, kinds: [], records: 0))
                export.fileFailures.append(FileFailure(file: index, line: nil, reason: error.reason))
            }
        }
        guard export.fileFailures.isEmpty else { return export }
        // Room for every file's transactions at once (a transaction line is rarely under 64 bytes):
        // growing the columns file by file would copy them, and hold both copies, once per file.
        var expected = 0
        for case let source? in sources { expected += estimatedRows(source) }
        export.transactions.reserveCapacity(expected)
        for index in paths.indices {
            guard let source = sources[index] else { continue }
            sources[index] = nil
            let fileOptions = options.forFile(source.path)
            switch export.files[index].format {
            case .csv: readCSV(source: source, fileIndex: index, options: fileOptions, workers: workers, into: &export)
            case .xml: readXML(source: source, fileIndex: index, options: fileOptions, workers: workers, into: &export)
            }
            if !export.fileFailures.isEmpty { break }
        }
        Supersession.apply(&export)
        return export
    }

    /// About how many lines a file holds, from the lines of its first MiB (a little over, so that
    /// the columns need not grow): reserving by a guessed line length held a fifth more than needed.
    static func estimatedRows(_ source: InputSource) -> Int {
        guard source.isRegular, source.size > 0 else { return 0 }
        var window = [UInt8](repeating: 0, count: min(source.size, 1 << 20))
        let got = window.withUnsafeMutableBytes { pread(source.fd, $0.baseAddress, $0.count, 0) }
        guard got > 0 else { return source.size / 64 }
        var lines = 1
        for byte in window[0..<got] where byte == 0x0A { lines += 1 }
        // size × lines / sampled bytes, and 2 % more.
        let estimate: Int = source.size / got * lines + (source.size % got) * lines / got
        return estimate + estimate / 50 + 64
    }

    /// Files at least this large are parsed on two cores (when there are two).
    static let splitThreshold = 16 << 20

    /// The offset just past the first line feed at or after `offset`, or `nil` when the next
    /// MiB holds none (then the file is read in one go).
    static func lineStart(in source: InputSource, after offset: Int) -> Int? {
        var window = [UInt8](repeating: 0, count: 1 << 20)
        let got = window.withUnsafeMutableBytes { pread(source.fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard got > 0, let newline = window[0..<got].firstIndex(of: 0x0A), newline + 1 < got else { return nil }
        return offset + newline + 1
    }

    /// Thrown from a reader's callback to stop reading a file that has been refused.
    struct StopReading: Error {}

    /// Reads one CSV file by path (tests).
    static func readCSV(path: String, fileIndex: Int, options: IngestOptions, workers: Int = 1, splitNear: Int? = nil,
                        into export: inout IngestedExport) {
        while export.files.count <= fileIndex { export.files.append(InputFile(path: path, format: .csv, kinds: [], records: 0)) }
        do {
            readCSV(source: try InputSource.open(path), fileIndex: fileIndex, options: options, workers: workers,
                    splitNear: splitNear, into: &export)
        } catch {
            export.fileFailures.append(FileFailure(file: fileIndex, line: nil, reason: error.reason))
        }
    }

    /// `splitNear` (for tests) splits the file at the first line start from that offset, whatever its size.
    static func readCSV(source: InputSource, fileIndex: Int, options: IngestOptions, workers: Int = 1, splitNear: Int? = nil,
                        into export: inout IngestedExport) {
        func fail(_ line: Int?, _ reason: String) {
            if export.fileFailures.contains(where: { $0.file == fileIndex }) { return }
            export.fileFailures.append(FileFailure(file: fileIndex, line: line, reason: reason))
        }
        var reader: CSVReader
        let input: EncodedCSVInput
        let rejectionsBefore = export.rejections.count
        do {
            input = try EncodedCSVInput.open(source, declared: options.encoding)
            reader = input.reader
        } catch {
            fail(error.line, error.reason)
            return
        }
        // Room for the records up front (a transaction line is rarely under 64 bytes): growing a
        // million-element array step by step copies it again and again.
        let size = source.isRegular ? source.size : 0
        export.transactions.reserveCapacity(export.transactions.count + estimatedRows(source))
        reader.declaredDelimiter = options.delimiter
        // A large file is read in two halves on two cores: the second from the first line start
        // after the middle. The first half stops where the second began; if that was not a record
        // start (the middle fell inside a quoted field with line breaks) the second half is thrown
        // away and the rest read again in order, so the records are the same either way.
        let near = splitNear ?? (workers > 1 && size >= splitThreshold ? size / 2 : nil)
        let split = input.readsFileDirectly ? near.flatMap { lineStart(in: source, after: $0) } : nil
        var secondHalf: CSVPart.Pending? = nil
        var sink: CSVRecordSink? = nil
        var records = 0
        var blankRows = 0
        let stop = CSVReader.StopPoint()
        reader.stop = stop
        do {
            try reader.read(onRow: { row in
                if let sink {
                    if CSVRecordSink.isBlank(row) { blankRows += 1; return }
                    records += sink.take(row, into: &export)
                    return
                }
                do throws(CSVRecordSink.HeaderError) {
                    let header = try CSVRecordSink(header: row, fileIndex: fileIndex, options: options)
                    sink = header
                    export.files[fileIndex].kinds = [header.kind]
                    // Rows that name their own file and line are read in one go: their locations
                    // are not renumbered the way a second half's are.
                    if let split, header.provenance == nil {
                        stop.offset = split
                        secondHalf = CSVPart.start(source: source, from: split, sink: header, delimiter: row.delimiter)
                    }
                } catch {
                    // A refused header refuses the file; nothing after it is read.
                    fail(row.line, error.reason)
                    throw StopReading()
                }
            }, onMalformed: { error in
                guard let sink else {
                    // A header that cannot be read: the file cannot be read either (a data row must
                    // not be taken for the header).
                    fail(error.line, "the header is malformed: \(error.reason)")
                    throw StopReading()
                }
                records += 1
                sink.malformed(error, into: &export)
            })
            if let stopped = reader.stoppedAt, let sink, let part = secondHalf {
                let rest = stopped.offset == part.offset ? part.finish()
                    : CSVPart.read(source: source, from: stopped.offset, sink: sink, delimiter: reader.delimiter)
                records += rest.records
                blankRows += rest.blankRows
                try rest.append(to: &export, lineOffset: stopped.line - 1)
            }
        } catch is StopReading {
        } catch let error as CSVError {
            // What ends a file early (an unterminated quote, an endless record, a read error)
            // leaves the rest of it unread: the file is refused, not read in part.
            fail(error.line > 0 ? error.line : nil, error.reason + (sink == nil ? "" : " (the rest of the file cannot be read)"))
        } catch {
            fail(nil, "\(error)")
        }
        _ = secondHalf?.finish()
        if let refusal = input.undeclaredWindows1251(export.rejections[rejectionsBefore...]) {
            // Text that is not UTF-8 in a Windows-1251 file: the encoding is wrong, not the records.
            export.rejections.removeSubrange(rejectionsBefore...)
            fail(refusal.line, refusal.reason)
        }
        if let failure = input.finish() {
            // A pump (gzip, transcoding) could not read the whole file: what was parsed may be cut short.
            fail(nil, failure)
        }
        if sink == nil {
            fail(nil, "the file is empty: no header, so it is not an export")
        }
        export.files[fileIndex].records = records
        export.files[fileIndex].blankRows = blankRows
    }

    static func decode<F: SourceFields>(_ fields: F, kind: RecordKind, source: SourceLocation, decoder: RecordDecoder,
                                        into export: inout IngestedExport) {
        do throws(FieldError) {
            switch kind {
            case .transaction: try decoder.appendTransaction(fields, at: source, to: &export.transactions)
            case .client: export.clients.append(try decoder.client(fields, at: source))
            case .event: export.events.append(try decoder.event(fields, at: source))
            }
        } catch {
            export.rejections.append(Rejection(source: source, kind: kind, reason: error.message,
                                               recordID: fieldText(fields, kind),
                                               amount: kind == .transaction ? decoder.salvageAmount(fields) : nil))
        }
    }

    /// The id a rejected record can still be recognised by.
    static func fieldText<F: SourceFields>(_ fields: F, _ kind: RecordKind) -> String {
        fields.withField(0) { validUTF8String($0) } ?? ""
    }
}

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
                export.rejections.append(Rejection(source: source, kind: kind, reason: reason,
                                                   recordID: Ingestor.fieldText(fields, kind),
                                                   amount: kind == .transaction ? decoder.salvageAmount(fields) : nil))
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
        let baseID: String? = columns[0] < 0 ? RowShape.contentID(row) : nil
        let amounts: [(index: Int, name: String, kind: TransactionKind)?] = shape.amountColumns.isEmpty ? [nil] : shape.amountColumns
        var produced = 0
        for (position, column) in amounts.enumerated() {
            if position > 0, let column, isZeroOrEmpty(row, column.index) { continue }
            var id: [UInt8]? = baseID.map { Array($0.utf8) }
            if amounts.count > 1, let column {
                id = (id ?? fields.withField(0) { Array($0) }) + Array("-\(column.name)".utf8)
            }
            let derived = DerivedFields(base: fields, row: row, id: id, type: column.map { Array($0.kind.rawValue.utf8) },
                                        amountColumn: column?.index, nullTokens: nullTokens)
            let before = export.transactions.count
            decode(derived, source, into: &export)
            produced += 1
            guard export.transactions.count > before else { continue }
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
                let transaction = export.transactions[export.transactions.count - 1]
                if export.derivedClientIDs.insert(ByteKey(transaction.clientID)).inserted {
                    let partner = text(row, shape.partnerColumn)
                    export.derivedClients.append(ClientRecord(id: transaction.clientID, name: text(row, shape.nameColumn), email: "",
                                                              phone: "", partnerID: partner.isEmpty ? "default" : partner,
                                                              checkpoint: nil, source: source))
                }
            }
        }
        return produced
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
