import BalanceModel
import BalanceSupport
import Dispatch
import Glibc

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
    /// A profile's `float_amounts` (see `DecodingOptions.floatAmounts`).
    public var floatAmounts = false
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
            // Identical rows are counted within one file (`row_ids: fields`): none of it is needed past it.
            export.rowOccurrences = [:]
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
                    // So are rows whose ids count identical rows of the file (`row_ids: fields`).
                    if let split, header.provenance == nil, header.shape?.idsFromFields != true {
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
            case .transaction:
                try decoder.appendTransaction(fields, at: source, to: &export.transactions)
                if decoder.options.floatAmounts { FloatAmountParser.count(fields, decoder, into: &export.amountRounding) }
            case .client: export.clients.append(try decoder.client(fields, at: source))
            case .event: export.events.append(try decoder.event(fields, at: source))
            }
        } catch {
            export.rejections.append(rejection(fields, kind: kind, source: source, reason: error.message, decoder: decoder))
        }
    }

    /// A record refused with `reason`: its id, and (a transaction) the amount and currency it
    /// still shows, for the control totals.
    static func rejection<F: SourceFields>(_ fields: F, kind: RecordKind, source: SourceLocation, reason: String,
                                           decoder: RecordDecoder) -> Rejection {
        let salvaged = kind == .transaction ? decoder.salvageAmount(fields) : nil
        return Rejection(source: source, kind: kind, reason: reason, recordID: fieldText(fields, kind),
                         amount: salvaged?.amount, currency: salvaged?.currency ?? "RUB")
    }

    /// The id a rejected record can still be recognised by.
    static func fieldText<F: SourceFields>(_ fields: F, _ kind: RecordKind) -> String {
        fields.withField(0) { validUTF8String($0) } ?? ""
    }
}
