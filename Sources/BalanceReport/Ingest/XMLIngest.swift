import Dispatch
import Glibc
import Synchronization

/// What an XML export's records become: decoded as they are read, straight into the columns
/// (`RecordDecoder.appendTransaction` over the record's bytes), each record's outcome noted in one
/// byte so that a document found broken later can still be rejected record by record.
struct XMLRecordSink {
    enum Outcome: UInt8 { case transaction, client, event, rejected }

    let fileIndex: Int
    let decoder: RecordDecoder
    let valueMaps: [RecordKind: [Int: [[UInt8]: [UInt8]]]]
    let nullTokens: [[UInt8]]
    /// One per record read, in document order.
    var outcomes: [Outcome] = []
    var kinds = Set<RecordKind>()

    init(fileIndex: Int, options: IngestOptions) {
        self.fileIndex = fileIndex
        decoder = RecordDecoder(options, decimalMark: options.decimalMark ?? .point)
        valueMaps = options.values.byField
        nullTokens = options.nullTokens
    }

    mutating func take(_ record: XMLFieldRecord, into export: inout IngestedExport) {
        var fields = record.fields
        fields.nullTokens = nullTokens
        let location = SourceLocation(file: fileIndex, line: record.line)
        if let twice = record.twice {
            let field = record.kind.fields[twice]
            export.rejections.append(Rejection(source: location, kind: record.kind,
                                               reason: "field \(field) is given twice (an attribute and a child element, or two child elements)",
                                               recordID: Ingestor.fieldText(fields, record.kind)))
            outcomes.append(.rejected)
            return
        }
        let rejected = export.rejections.count
        Ingestor.decode(fields, kind: record.kind, source: location, decoder: decoder, valueMaps: valueMaps, into: &export)
        if export.rejections.count > rejected {
            outcomes.append(.rejected)
        } else {
            switch record.kind {
            case .transaction: outcomes.append(.transaction)
            case .client: outcomes.append(.client)
            case .event: outcomes.append(.event)
            }
        }
    }

    /// Where each record read since `before` stands and its id, in document order: what a
    /// rejection of the whole document needs. The records' outcomes are taken from the export.
    func readRecords(in export: IngestedExport, since before: XMLIngestMark) -> [(kind: RecordKind, line: Int32, id: String)] {
        var transaction = before.transactions, client = before.clients, event = before.events, rejection = before.rejections
        var records: [(kind: RecordKind, line: Int32, id: String)] = []
        records.reserveCapacity(outcomes.count)
        for outcome in outcomes {
            switch outcome {
            case .transaction:
                let row = export.transactions[transaction]
                records.append((.transaction, row.source.line, row.id))
                transaction += 1
            case .client:
                let row = export.clients[client]
                records.append((.client, row.source.line, row.id))
                client += 1
            case .event:
                let row = export.events[event]
                records.append((.event, row.source.line, row.clientID))
                event += 1
            case .rejected:
                let row = export.rejections[rejection]
                records.append((row.kind ?? .transaction, row.source.line, row.recordID))
                rejection += 1
            }
        }
        return records
    }
}

/// How many records of each kind an export held before a file was read.
struct XMLIngestMark {
    var transactions: Int
    var clients: Int
    var events: Int
    var rejections: Int

    init(_ export: IngestedExport) {
        transactions = export.transactions.count
        clients = export.clients.count
        events = export.events.count
        rejections = export.rejections.count
    }
}

extension Ingestor {
    /// Records are decoded as they are read. A document refused before its first record (a
    /// DOCTYPE, not well-formed, not an export) refuses the file; one that turns out not to be
    /// well-formed later is rejected whole: what it added is taken back and each of its records
    /// becomes a rejection.
    static func readXML(source: InputSource, fileIndex: Int, options: IngestOptions, into export: inout IngestedExport) {
        let before = XMLIngestMark(export)
        var sink = XMLRecordSink(fileIndex: fileIndex, options: options)
        do {
            try XMLRecordReader.readFields(feed: source.feed(), mapping: options.mapping,
                                           onSection: { sink.kinds.insert($0) }) { record in
                sink.take(record, into: &export)
            }
        } catch {
            let problem = error as? XMLReadError ?? XMLReadError(line: 0, reason: "\(error)")
            rejectXML(problem, sink: sink, before: before, source: source, fileIndex: fileIndex, into: &export)
            return
        }
        if let failure = source.finish() {
            export.fileFailures.append(FileFailure(file: fileIndex, line: nil, reason: failure))
        }
        export.files[fileIndex].records = sink.outcomes.count
        export.files[fileIndex].kinds = RecordKind.allCases.filter { sink.kinds.contains($0) }
        if sink.kinds.isEmpty {
            export.fileFailures.append(FileFailure(file: fileIndex, line: nil,
                                                   reason: "the document holds no clients, events or transactions, so it is not an export"))
        }
    }

    /// A document found unreadable: refused as a file before its first record, else rejected
    /// whole, every record it held and the error.
    static func rejectXML(_ problem: XMLReadError, sink: XMLRecordSink, before: XMLIngestMark, source: InputSource,
                          fileIndex: Int, into export: inout IngestedExport) {
        let read = sink.readRecords(in: export, since: before)
        export.transactions.truncate(to: before.transactions)
        export.clients.removeSubrange(before.clients...)
        export.events.removeSubrange(before.events...)
        export.rejections.removeSubrange(before.rejections...)
        export.files[fileIndex].records = read.count
        if let failure = source.finish() {
            export.fileFailures.append(FileFailure(file: fileIndex, line: nil, reason: failure))
            return
        }
        guard !read.isEmpty else {
            export.fileFailures.append(FileFailure(file: fileIndex, line: problem.line > 0 ? problem.line : nil, reason: problem.reason))
            return
        }
        for record in read {
            export.rejections.append(Rejection(source: SourceLocation(file: fileIndex, line: Int(record.line)), kind: record.kind,
                                               reason: "in a document that is rejected (line \(problem.line): \(problem.reason))",
                                               recordID: record.id))
        }
        export.rejections.append(Rejection(source: SourceLocation(file: fileIndex, line: problem.line), kind: nil, reason: problem.reason, isRecord: false))
        export.files[fileIndex].kinds = RecordKind.allCases.filter { sink.kinds.contains($0) }
    }
}
