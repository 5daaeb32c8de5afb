internal import CLibXML2
import BalanceModel
import BalanceSupport
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
    ///
    /// A large plain file is parsed on two cores (`XMLSplit`): the part after a record boundary
    /// near the middle is read on another thread as a document of its own, then joined, as a CSV
    /// file's second half is. `splitNear` (tests) cuts near that offset whatever the file's size.
    /// Returns whether the document was read in two parts.
    @discardableResult
    static func readXML(source: InputSource, fileIndex: Int, options: IngestOptions, workers: Int = 1, splitNear: Int? = nil,
                        into export: inout IngestedExport) -> Bool {
        var joined = false
        let before = XMLIngestMark(export)
        var sink = XMLRecordSink(fileIndex: fileIndex, options: options)
        let feed = source.feed()
        let parser = XMLRecordParser(mapping: options.mapping)
        let near = splitNear ?? (workers > 1 && source.isPlainFile && source.size >= splitThreshold ? source.size / 2 : nil)
        let cut = near.flatMap { source.isPlainFile ? XMLSplit.find(in: source, near: $0) : nil }
        do {
            try parser.reading(onSection: { sink.kinds.insert($0) }, onRecord: { sink.take($0, into: &export) }) {
                let read: (UnsafeMutablePointer<UInt8>, Int) -> Int = { feed.read(into: $0, count: $1) }
                if let cut {
                    let part = XMLPart.start(source: source, cut: cut, options: options, fileIndex: fileIndex)
                    do {
                        try XMLRecordReader.pump(into: parser, limit: cut.offset, read: read, failure: { feed.failure })
                    } catch {
                        part.cancel()
                        throw error
                    }
                    if parser.stands(at: cut) {
                        // The first part ends exactly where the second began: its lines follow on.
                        let second = part.finish()
                        if second.failure == nil {
                            joined = true
                            second.append(to: &export, sink: &sink, lineShift: parser.markup.line - 1)
                            return
                        }
                        // A second part that is not well-formed on its own: the rest is read again
                        // in order, so that the error is the one of one pass (libxml2's messages
                        // name lines of their own, which a part would number from the cut).
                    } else {
                        // The cut was not between two records (inside a comment, a CDATA section,
                        // a record): the second part is thrown away and the rest read in order.
                        part.cancel()
                    }
                }
                try XMLRecordReader.pump(into: parser, read: read, failure: { feed.failure })
                try parser.finish()
            }
        } catch {
            let problem = error as? XMLReadError ?? XMLReadError(line: 0, reason: "\(error)")
            rejectXML(problem, sink: sink, before: before, source: source, fileIndex: fileIndex, into: &export)
            return joined
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
        return joined
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

/// Where a large XML document is cut to be parsed on two cores: the start of a line whose first
/// markup is a record's start tag, near the middle. Whether that really is between two records
/// is only known once the first part has been parsed up to it (`XMLRecordParser.stands(at:)`).
struct XMLSplit: Sendable {
    var offset: Int
    /// The root and section elements the second part is read inside (`<root><section>`), as the
    /// first part must turn out to stand there.
    var root: [UInt8]
    var section: [UInt8]
    var kind: RecordKind

    /// The cut at the first line start from `near` on that begins (after blanks) with `<client`,
    /// `<event` or `<transaction`, when the document's root element is plain (`<name>`: no
    /// attribute, no namespace); `nil` otherwise, and the document is read in one go.
    static func find(in source: InputSource, near: Int) -> XMLSplit? {
        guard let root = plainRoot(source.head) else { return nil }
        var window = [UInt8](repeating: 0, count: 1 << 16)
        let got = window.withUnsafeMutableBytes { pread(source.fd, $0.baseAddress, $0.count, off_t(max(0, near))) }
        guard got > 0 else { return nil }
        var index = 0
        while let newline = window[index..<got].firstIndex(of: 0x0A) {
            var cursor = newline + 1
            while cursor < got && (window[cursor] == 0x20 || window[cursor] == 0x09 || window[cursor] == 0x0D) { cursor += 1 }
            if cursor < got && window[cursor] == UInt8(ascii: "<") {
                for kind in RecordKind.allCases {
                    let name = Array(kind.xmlRecord.utf8)
                    let end = cursor + 1 + name.count
                    guard end < got, window[(cursor + 1)..<end].elementsEqual(name) else { continue }
                    let next = window[end]
                    guard next == 0x20 || next == 0x09 || next == 0x0A || next == 0x0D || next == UInt8(ascii: ">")
                            || next == UInt8(ascii: "/") else { continue }
                    return XMLSplit(offset: max(0, near) + newline + 1, root: root, section: Array(kind.xmlSection.utf8), kind: kind)
                }
            }
            index = newline + 1
        }
        return nil
    }

    /// The root element's name when its start tag is plain, from the document's first bytes
    /// (after a BOM, an XML declaration, comments and blanks); `nil` for anything else.
    static func plainRoot(_ head: [UInt8]) -> [UInt8]? {
        var index = head.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        func skipBlanks() { while index < head.count && [0x20, 0x09, 0x0A, 0x0D].contains(head[index]) { index += 1 } }
        func skip(past end: [UInt8]) -> Bool {
            while index + end.count <= head.count {
                if head[index..<(index + end.count)].elementsEqual(end) { index += end.count; return true }
                index += 1
            }
            return false
        }
        while true {
            skipBlanks()
            guard index < head.count, head[index] == UInt8(ascii: "<") else { return nil }
            if head[index...].starts(with: Array("<?".utf8)) {
                guard skip(past: Array("?>".utf8)) else { return nil }
            } else if head[index...].starts(with: Array("<!--".utf8)) {
                guard skip(past: Array("-->".utf8)) else { return nil }
            } else {
                break
            }
        }
        index += 1
        let start = index
        while index < head.count, head[index] != UInt8(ascii: ">"), ![0x20, 0x09, 0x0A, 0x0D].contains(head[index]) {
            // A prefix, a DOCTYPE or anything but a plain name: no cut.
            guard head[index] == UInt8(ascii: "-") || head[index] == UInt8(ascii: "_") || head[index] == UInt8(ascii: ".")
                    || (head[index] >= 0x30 && head[index] <= 0x39) || (head[index] | 0x20 >= 0x61 && head[index] | 0x20 <= 0x7A)
            else { return nil }
            index += 1
        }
        guard index > start else { return nil }
        let name = Array(head[start..<index])
        skipBlanks()
        guard index < head.count, head[index] == UInt8(ascii: ">") else { return nil }
        return name
    }
}

extension XMLRecordParser {
    /// Whether a part read from `cut` on, inside `<root><section>`, is exactly what this parser
    /// would read there: it stands between two records of that plain section of that plain root.
    func stands(at cut: XMLSplit) -> Bool {
        // Whatever libxml2 held back for want of more bytes, it parses now.
        push(UnsafeBufferPointer(start: nil, count: 0))
        return standsBetweenRecords && plainRoot == cut.root && plainSection == cut.section && section == cut.kind
    }
}

/// The records of an XML document from a cut (`XMLSplit`) to its end, read on another thread as
/// a document of their own inside `<root><section>`, lines numbered from 1 at the cut.
struct XMLPart: @unchecked Sendable {
    var export = IngestedExport()
    var sink: XMLRecordSink
    var failure: XMLReadError? = nil

    /// Reads on another thread; `finish` waits for it, `cancel` stops it early.
    static func start(source: InputSource, cut: XMLSplit, options: IngestOptions, fileIndex: Int) -> Pending {
        let pending = Pending()
        // libxml2's one-time set-up, done before two threads create parsers (2.9 guards it with a
        // lock too; calling it first is what its documentation asks of threaded programs).
        xmlInitParser()
        nonisolated(unsafe) let source = source
        pending.group.enter()
        DispatchQueue.global().async {
            pending.result = read(source: source, cut: cut, options: options, fileIndex: fileIndex, pending: pending)
            pending.group.leave()
        }
        return pending
    }

    static func read(source: InputSource, cut: XMLSplit, options: IngestOptions, fileIndex: Int, pending: Pending? = nil) -> XMLPart {
        var part = XMLPart(sink: XMLRecordSink(fileIndex: fileIndex, options: options))
        if source.size > 0 {
            part.export.transactions.reserveCapacity(Ingestor.estimatedRows(source) / 64 * (source.size - cut.offset) / (source.size / 64 + 1))
        }
        let parser = XMLRecordParser(mapping: options.mapping, startsInSection: true)
        var position = cut.offset
        do {
            try parser.reading(onSection: { part.sink.kinds.insert($0) }, onRecord: { part.sink.take($0, into: &part.export) }) {
                let opening = Array("<".utf8) + cut.root + Array("><".utf8) + cut.section + Array(">".utf8)
                opening.withUnsafeBufferPointer { _ = parser.push($0) }
                try XMLRecordReader.pump(into: parser, read: { buffer, count in
                    if pending?.isCancelled == true { return 0 }
                    while true {
                        let got = pread(source.fd, buffer, count, off_t(position))
                        if got < 0 && errno == EINTR { continue }
                        if got > 0 { position += got }
                        return got
                    }
                }, failure: { "read failed: \(FileSystem.lastError)" })
                if pending?.isCancelled != true { try parser.finish() }
            }
        } catch {
            part.failure = error as? XMLReadError ?? XMLReadError(line: 0, reason: "\(error)")
        }
        return part
    }

    final class Pending: @unchecked Sendable {
        let group = DispatchGroup()
        let cancelled = Atomic<Bool>(false)
        /// Written by the reading thread before `leave`, read only after `wait`.
        var result: XMLPart? = nil

        func finish() -> XMLPart {
            group.wait()
            return result!
        }

        var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

        func cancel() {
            cancelled.store(true, ordering: .relaxed)
            group.wait()
        }
    }

    /// Joins the part (read without failure) to the records of the part before it, its lines
    /// shifted by `lineShift`.
    consuming func append(to target: inout IngestedExport, sink targetSink: inout XMLRecordSink, lineShift: Int) {
        let shift = Int32(truncatingIfNeeded: lineShift)
        for index in export.clients.indices { export.clients[index].source.line += shift }
        for index in export.events.indices { export.events[index].source.line += shift }
        for index in export.rejections.indices { export.rejections[index].source.line += shift }
        target.transactions.append(contentsOf: export.transactions, lineShift: shift)
        target.clients.append(contentsOf: export.clients)
        target.events.append(contentsOf: export.events)
        target.rejections.append(contentsOf: export.rejections)
        targetSink.outcomes.append(contentsOf: sink.outcomes)
        targetSink.kinds.formUnion(sink.kinds)
    }
}
