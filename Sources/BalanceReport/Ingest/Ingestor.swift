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
    public static func ingest(paths: [String], options: IngestOptions) -> IngestedExport {
        var export = IngestedExport()
        for (index, path) in paths.enumerated() {
            let format: InputFile.Format = looksLikeXML(path) ? .xml : .csv
            export.files.append(InputFile(path: path, format: format, kinds: [], records: 0))
            switch format {
            case .csv: readCSV(path: path, fileIndex: index, options: options.forFile(path), into: &export)
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

    static func readCSV(path: String, fileIndex: Int, options: IngestOptions, into export: inout IngestedExport) {
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
        if stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG {
            export.transactions.reserveCapacity(export.transactions.count + Int(status.st_size) / 64)
        }
        defer { _ = input.finish() }
        reader.declaredDelimiter = options.delimiter
        // Most runs have no value maps: then no lookup at all per record.
        let valueMaps = options.values.isEmpty ? nil : options.values.byField
        var kind: RecordKind? = nil
        var columns: [Int] = []
        var headerCount = 0
        var decoder = RecordDecoder(options: DecodingOptions(naiveOffsetSeconds: options.naiveOffsetSeconds))
        decoder.options.timestampFormat = options.timestampFormat
        var records = 0
        var fileFailed = false
        do {
            try reader.read(onRow: { row in
                guard let recordKind = kind else {
                    if fileFailed { return }
                    var names: [String] = []
                    for index in 0..<row.count {
                        guard let name = row.string(index) else {
                            reject(row.line, nil, options.encoding == .utf8
                                   ? "the header is not valid UTF-8 (a Windows-1251 export? declare it: --encoding cp1251, or encoding: in the profile)"
                                   : "the header is not valid UTF-8")
                            fileFailed = true
                            return
                        }
                        names.append(options.mapping.canonicalName(name))
                    }
                    guard let detected = RecordKind.detect(fromHeader: Set(names)) else {
                        reject(row.line, nil, "cannot tell the kind of export from the header (\(names.joined(separator: ",")))")
                        fileFailed = true
                        return
                    }
                    let missing = detected.requiredFields.filter { !names.contains($0) }
                    if !missing.isEmpty {
                        reject(row.line, detected, "missing column \(missing.joined(separator: ", "))")
                        fileFailed = true
                        return
                    }
                    kind = detected
                    headerCount = row.count
                    columns = detected.fields.map { names.firstIndex(of: $0) ?? -1 }
                    decoder.options.decimalMark = options.decimalMark ?? (row.delimiter == UInt8(ascii: ";") ? .pointOrComma : .point)
                    export.files[fileIndex].kinds = [detected]
                    return
                }
                records += 1
                let source = SourceLocation(file: fileIndex, line: row.line)
                let fields = CSVFields(row: row, columns: columns)
                guard row.count == headerCount else {
                    export.rejections.append(Rejection(
                        source: source, kind: recordKind,
                        reason: "expected \(headerCount) fields, found \(row.count)",
                        recordID: fieldText(fields, recordKind), amount: nil))
                    return
                }
                if let maps = valueMaps?[recordKind] {
                    decode(ValueMappedFields(base: fields, maps: maps), kind: recordKind, source: source, decoder: decoder, into: &export)
                } else {
                    decode(fields, kind: recordKind, source: source, decoder: decoder, into: &export)
                }
            }, onMalformed: { error in
                guard kind != nil else {
                    // A header that cannot be read: the file cannot be read either (a data row must
                    // not be taken for the header).
                    if !fileFailed { reject(error.line, nil, "the header is malformed: \(error.reason)") }
                    fileFailed = true
                    return
                }
                records += 1
                reject(error.line, kind, error.reason, isRecord: true)
            })
        } catch let error as CSVError {
            reject(error.line, kind, error.reason)
            fileFailed = true
        } catch {
            reject(0, kind, "\(error)")
            fileFailed = true
        }
        if let failure = input.finish(), !fileFailed {
            // The transcoder could not read the whole file: what was parsed may be cut short.
            reject(0, kind, failure)
            fileFailed = true
        }
        if kind == nil && !fileFailed {
            reject(1, nil, "the file is empty (no header)")
        }
        export.files[fileIndex].records = records
    }

    static func readXML(path: String, fileIndex: Int, options: IngestOptions, into export: inout IngestedExport) {
        var records: [XMLRecord] = []
        do {
            try XMLRecordReader.read(path: path, mapping: options.mapping) { records.append($0) }
        } catch let error as XMLReadError {
            // A document that is not well-formed is rejected whole: every record it held, and the error.
            export.files[fileIndex].records = records.count
            for record in records {
                export.rejections.append(Rejection(source: SourceLocation(file: fileIndex, line: record.line), kind: record.kind,
                                                   reason: "in a document that is rejected (line \(error.line): \(error.reason))",
                                                   recordID: fieldText(record, record.kind)))
            }
            export.rejections.append(Rejection(source: SourceLocation(file: fileIndex, line: error.line), kind: nil, reason: error.reason, isRecord: false))
            return
        } catch {
            export.rejections.append(Rejection(source: SourceLocation(file: fileIndex, line: 0), kind: nil, reason: "\(error)", isRecord: false))
            return
        }
        var decoder = RecordDecoder(options: DecodingOptions(naiveOffsetSeconds: options.naiveOffsetSeconds))
        decoder.options.timestampFormat = options.timestampFormat
        decoder.options.decimalMark = options.decimalMark ?? .point
        let valueMaps = options.values.byField
        var kinds = Set<RecordKind>()
        for record in records {
            kinds.insert(record.kind)
            decode(record, kind: record.kind, source: SourceLocation(file: fileIndex, line: record.line), decoder: decoder,
                   valueMaps: valueMaps, into: &export)
        }
        export.files[fileIndex].records = records.count
        export.files[fileIndex].kinds = RecordKind.allCases.filter { kinds.contains($0) }
        if records.isEmpty {
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

/// A CSV row seen through the schema's field order.
struct CSVFields: SourceFields {
    let row: CSVRow
    let columns: [Int]

    func withField<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try row.withField(columns[index], body)
    }
}
