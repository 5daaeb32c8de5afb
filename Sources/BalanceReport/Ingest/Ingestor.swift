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
}

/// Everything read from a run's files: the boundary between Ingest and Model.
public struct IngestedExport: Sendable {
    public var files: [InputFile] = []
    public var transactions: [Transaction] = []
    public var clients: [ClientRecord] = []
    public var events: [ClientEvent] = []
    public var rejections: [Rejection] = []

    public init() {}

    public func location(_ source: SourceLocation) -> String {
        let path = Int(source.file) < files.count ? files[Int(source.file)].path : "?"
        return "\(path):\(source.line)"
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

    public init(naiveOffsetSeconds: Int64 = MoscowTime.offsetSeconds, mapping: HeaderMapping = HeaderMapping()) {
        self.naiveOffsetSeconds = naiveOffsetSeconds
        self.mapping = mapping
    }
}

/// Reads every input file, detects its kind and decodes its records.
public enum Ingestor {
    /// Reads every file in order; a large CSV file is parsed on two cores when `workers` > 1.
    public static func ingest(paths: [String], options: IngestOptions, workers: Int = 1) -> IngestedExport {
        var export = IngestedExport()
        for (index, path) in paths.enumerated() {
            let format: InputFile.Format = looksLikeXML(path) ? .xml : .csv
            export.files.append(InputFile(path: path, format: format, kinds: [], records: 0))
            switch format {
            case .csv: readCSV(path: path, fileIndex: index, options: options.forFile(path), workers: workers, into: &export)
            case .xml: readXML(path: path, fileIndex: index, options: options.forFile(path), into: &export)
            }
        }
        return export
    }

    /// `.xml` files, and any regular file whose first non-blank byte (after a BOM) is `<`.
    /// A pipe (`<(…)`, `/dev/stdin`) is never sniffed: the bytes read here would be lost to the reader.
    static func looksLikeXML(_ path: String) -> Bool {
        if path.lowercased().hasSuffix(".xml") { return true }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        var head = [UInt8](repeating: 0, count: 512)
        let got = read(fd, &head, head.count)
        guard got > 0 else { return false }
        var bytes = head[0..<got]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        return bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "<")
    }

    /// Files at least this large are parsed on two cores (when there are two).
    static let splitThreshold = 16 << 20

    /// The offset just past the first line feed at or after `offset`, or `nil` when the next
    /// MiB holds none (then the file is read in one go).
    static func lineStart(in path: String, after offset: Int) -> Int? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var window = [UInt8](repeating: 0, count: 1 << 20)
        let got = window.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard got > 0, let newline = window[0..<got].firstIndex(of: 0x0A), newline + 1 < got else { return nil }
        return offset + newline + 1
    }

    /// `splitNear` (for tests) splits the file at the first line start from that offset, whatever its size.
    static func readCSV(path: String, fileIndex: Int, options: IngestOptions, workers: Int = 1, splitNear: Int? = nil,
                        into export: inout IngestedExport) {
        func reject(_ line: Int, _ kind: RecordKind?, _ reason: String, isRecord: Bool = false) {
            export.rejections.append(Rejection(source: SourceLocation(file: fileIndex, line: line), kind: kind, reason: reason, isRecord: isRecord))
        }
        var reader: CSVReader
        let input: EncodedCSVInput
        do {
            input = try EncodedCSVInput.open(path: path, declared: options.encoding)
            reader = input.reader
        } catch {
            reject(error.line, nil, error.reason)
            return
        }
        // Room for the records up front (a transaction line is rarely under 64 bytes): growing a
        // million-element array step by step copies it again and again.
        var status = stat()
        var size = 0
        if stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG {
            size = Int(status.st_size)
            export.transactions.reserveCapacity(export.transactions.count + size / 64)
        }
        defer { _ = input.finish() }
        reader.declaredDelimiter = options.delimiter
        // A large file is read in two halves on two cores: the second from the first line start
        // after the middle. The first half stops where the second began; if that was not a record
        // start (the middle fell inside a quoted field with line breaks) the second half is thrown
        // away and the rest read again in order, so the records are the same either way.
        let near = splitNear ?? (workers > 1 && size >= splitThreshold ? size / 2 : nil)
        let split = input.readsFileDirectly ? near.flatMap { lineStart(in: path, after: $0) } : nil
        var secondHalf: CSVPart.Pending? = nil
        var sink: CSVRecordSink? = nil
        var fileFailed = false
        var records = 0
        let stop = CSVReader.StopPoint()
        reader.stop = stop
        do {
            try reader.read(onRow: { row in
                if let sink {
                    records += 1
                    sink.take(row, into: &export)
                    return
                }
                if fileFailed { return }
                do throws(CSVRecordSink.HeaderError) {
                    let header = try CSVRecordSink(header: row, fileIndex: fileIndex, options: options)
                    sink = header
                    export.files[fileIndex].kinds = [header.kind]
                    if let split {
                        stop.offset = split
                        secondHalf = CSVPart.start(path: path, from: split, sink: header, delimiter: row.delimiter)
                    }
                } catch {
                    reject(row.line, error.kind, error.reason)
                    fileFailed = true
                }
            }, onMalformed: { error in
                guard let sink else {
                    // A header that cannot be read: the file cannot be read either (a data row must
                    // not be taken for the header).
                    if !fileFailed { reject(error.line, nil, "the header is malformed: \(error.reason)") }
                    fileFailed = true
                    return
                }
                records += 1
                sink.malformed(error, into: &export)
            })
            if let stopped = reader.stoppedAt, let sink, let part = secondHalf {
                let rest = stopped.offset == part.offset ? part.finish()
                    : CSVPart.read(path: path, from: stopped.offset, sink: sink, delimiter: reader.delimiter)
                records += rest.records
                try rest.append(to: &export, lineOffset: stopped.line - 1)
            }
        } catch let error as CSVError {
            reject(error.line, sink?.kind, error.reason)
            fileFailed = true
        } catch {
            reject(0, sink?.kind, "\(error)")
            fileFailed = true
        }
        _ = secondHalf?.finish()
        if let failure = input.finish(), !fileFailed {
            // The transcoder could not read the whole file: what was parsed may be cut short.
            reject(0, sink?.kind, failure)
            fileFailed = true
        }
        if sink == nil && !fileFailed {
            reject(1, nil, "the file is empty (no header)")
        }
        export.files[fileIndex].records = records
    }

    /// Records are decoded as they are read; a document that turns out not to be well-formed is
    /// rejected whole: what it added is taken back and each of its records becomes a rejection.
    /// (Decoding on a second core while libxml2 reads was measured and did not pay: the reading
    /// itself is the slower half.)
    static func readXML(path: String, fileIndex: Int, options: IngestOptions, into export: inout IngestedExport) {
        let decoder = RecordDecoder(options, decimalMark: options.decimalMark ?? .point)
        let valueMaps = options.values.byField
        let before = (transactions: export.transactions.count, clients: export.clients.count,
                      events: export.events.count, rejections: export.rejections.count)
        /// What a rejection of the whole document needs of each record: where it is and its id.
        var read: [(kind: RecordKind, line: Int, id: String)] = []
        var kinds = Set<RecordKind>()
        do {
            try XMLRecordReader.read(path: path, mapping: options.mapping) { record in
                read.append((record.kind, record.line, record.values[0] ?? ""))
                kinds.insert(record.kind)
                decode(record, kind: record.kind, source: SourceLocation(file: fileIndex, line: record.line), decoder: decoder,
                       valueMaps: valueMaps, into: &export)
            }
        } catch {
            export.transactions.removeSubrange(before.transactions...)
            export.clients.removeSubrange(before.clients...)
            export.events.removeSubrange(before.events...)
            export.rejections.removeSubrange(before.rejections...)
            export.files[fileIndex].records = read.count
            guard let error = error as? XMLReadError else {
                export.rejections.append(Rejection(source: SourceLocation(file: fileIndex, line: 0), kind: nil, reason: "\(error)", isRecord: false))
                return
            }
            // A document that is not well-formed is rejected whole: every record it held, and the error.
            for record in read {
                export.rejections.append(Rejection(source: SourceLocation(file: fileIndex, line: record.line), kind: record.kind,
                                                   reason: "in a document that is rejected (line \(error.line): \(error.reason))",
                                                   recordID: record.id))
            }
            export.rejections.append(Rejection(source: SourceLocation(file: fileIndex, line: error.line), kind: nil, reason: error.reason, isRecord: false))
            return
        }
        export.files[fileIndex].records = read.count
        export.files[fileIndex].kinds = RecordKind.allCases.filter { kinds.contains($0) }
        if read.isEmpty {
            export.rejections.append(Rejection(source: SourceLocation(file: fileIndex, line: 1), kind: nil,
                                               reason: "the document holds no clients, events or transactions", isRecord: false))
        }
    }

    static func decode<F: SourceFields>(_ fields: F, kind: RecordKind, source: SourceLocation, decoder: RecordDecoder,
                                        into export: inout IngestedExport) {
        do throws(FieldError) {
            switch kind {
            case .transaction: export.transactions.append(try decoder.transaction(fields, at: source))
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
struct CSVRecordSink: Sendable {
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

    init(header row: CSVRow, fileIndex: Int, options: IngestOptions) throws(HeaderError) {
        var names: [String] = []
        for index in 0..<row.count {
            guard let name = row.string(index) else {
                throw HeaderError(kind: nil, reason: options.encoding == .utf8
                    ? "the header is not valid UTF-8 (a Windows-1251 export? declare it: --encoding cp1251, or encoding: in the profile)"
                    : "the header is not valid UTF-8")
            }
            names.append(options.mapping.canonicalName(name))
        }
        guard let detected = RecordKind.detect(fromHeader: Set(names)) else {
            throw HeaderError(kind: nil, reason: "cannot tell the kind of export from the header (\(names.joined(separator: ",")))")
        }
        let missing = detected.requiredFields.filter { !names.contains($0) }
        if !missing.isEmpty {
            throw HeaderError(kind: detected, reason: "missing column \(missing.joined(separator: ", "))")
        }
        self.fileIndex = fileIndex
        self.kind = detected
        self.columns = detected.fields.map { names.firstIndex(of: $0) ?? -1 }
        self.headerCount = row.count
        self.decoder = RecordDecoder(options, decimalMark: options.decimalMark ?? (row.delimiter == UInt8(ascii: ";") ? .pointOrComma : .point))
        self.valueMaps = options.values.isEmpty ? nil : options.values.byField[detected]
    }

    func take(_ row: CSVRow, into export: inout IngestedExport) {
        let source = SourceLocation(file: fileIndex, line: row.line)
        let fields = CSVFields(row: row, columns: columns)
        guard row.count == headerCount else {
            export.rejections.append(Rejection(
                source: source, kind: kind, reason: "expected \(headerCount) fields, found \(row.count)",
                recordID: Ingestor.fieldText(fields, kind), amount: nil))
            return
        }
        if let valueMaps {
            Ingestor.decode(ValueMappedFields(base: fields, maps: valueMaps), kind: kind, source: source, decoder: decoder, into: &export)
        } else {
            Ingestor.decode(fields, kind: kind, source: source, decoder: decoder, into: &export)
        }
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
    /// What ended reading early (an unterminated quote, a read failure), thrown again by `append`
    /// after the records before it, as reading the file in one go would have.
    var failure: CSVError? = nil

    static func read(path: String, from offset: Int, sink: CSVRecordSink, delimiter: UInt8) -> CSVPart {
        var part = CSVPart()
        var status = stat()
        if stat(path, &status) == 0, sink.kind == .transaction {
            part.export.transactions.reserveCapacity(max(0, Int(status.st_size) - offset) / 64)
        }
        do {
            var reader = try CSVReader(path: path)
            defer { reader.close() }
            reader.startOffset = offset
            reader.declaredDelimiter = delimiter
            try reader.read(onRow: { row in
                part.records += 1
                sink.take(row, into: &part.export)
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
    static func start(path: String, from offset: Int, sink: CSVRecordSink, delimiter: UInt8) -> Pending {
        let pending = Pending(offset: offset)
        pending.group.enter()
        DispatchQueue.global().async {
            pending.result = read(path: path, from: offset, sink: sink, delimiter: delimiter)
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
        for index in export.transactions.indices { export.transactions[index].source.line += shift }
        for index in export.clients.indices { export.clients[index].source.line += shift }
        for index in export.events.indices { export.events[index].source.line += shift }
        for index in export.rejections.indices { export.rejections[index].source.line += shift }
        target.transactions.append(contentsOf: export.transactions)
        target.clients.append(contentsOf: export.clients)
        target.events.append(contentsOf: export.events)
        target.rejections.append(contentsOf: export.rejections)
        if var failure {
            failure.line += lineOffset
            throw failure
        }
    }
}

/// A CSV row seen through the schema's field order.
struct CSVFields: SourceFields {
    let row: CSVRow
    let columns: [Int]

    func withField<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try row.withField(columns[index], body)
    }
}
