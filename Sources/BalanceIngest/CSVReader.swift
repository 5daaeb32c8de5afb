import BalanceModel
import BalanceSupport
import Glibc

/// A structural CSV problem; `line` is where the broken record starts.
public struct CSVError: Error, Equatable, Sendable {
    public var line: Int
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }
}

/// One record of a CSV file, valid only inside the `CSVReader.read` callback that hands it out:
/// its fields point into the reader's buffer.
public struct CSVRow {
    package let base: UnsafePointer<UInt8>
    package let spans: UnsafeBufferPointer<CSVReader.Span>
    /// 1-based line the record starts on.
    public let line: Int
    /// The file's delimiter, as detected from its header line.
    public let delimiter: UInt8

    init(base: UnsafePointer<UInt8>, spans: UnsafeBufferPointer<CSVReader.Span>, line: Int, delimiter: UInt8) {
        self.base = base
        self.spans = spans
        self.line = line
        self.delimiter = delimiter
    }

    public var count: Int { spans.count }

    /// The field's bytes with RFC 4180 quoting removed.
    public func withField<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        guard index >= 0 && index < spans.count else {
            return try body(UnsafeBufferPointer(start: nil, count: 0))
        }
        let span = spans[index]
        let raw = UnsafeBufferPointer(start: base + span.start, count: span.end - span.start)
        if !span.hasDoubledQuotes { return try body(raw) }
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            unescaped.append(raw[i])
            i += raw[i] == UInt8(ascii: "\"") ? 2 : 1
        }
        return try unescaped.withUnsafeBufferPointer(body)
    }

    /// The field as text, or `nil` when its bytes are not valid UTF-8.
    public func string(_ index: Int) -> String? {
        withField(index) { validUTF8String($0) }
    }
}

/// A streaming RFC 4180 reader over bytes: quoted fields, doubled quotes, newlines inside quotes,
/// CRLF / LF / CR line ends, an optional UTF-8 BOM, `,` or `;` detected from the header line.
///
/// It reads the file in 1 MiB `read(2)` chunks and never builds a `String` of the whole file.
/// Broken quoting is reported, never guessed: an unterminated quote ends the file with an error;
/// a stray quote or text after a closing quote rejects that record and reading goes on at the next line.
public struct CSVReader {
    package struct Span {
        package var start: Int
        var end: Int
        var hasDoubledQuotes: Bool
    }

    /// A record may not be longer than this; a longer one is an error, so memory stays bounded.
    public static let maxRecordBytes = 8 << 20
    static let chunkBytes = 1 << 20

    public private(set) var delimiter: UInt8 = UInt8(ascii: ",")
    /// A delimiter declared by an import profile (`,`, `;` or tab); `nil`: detected from the header line.
    public var declaredDelimiter: UInt8? = nil
    /// Where reading starts: a line start inside the file, for the second half of a file parsed
    /// on two cores. Reading from there needs `declaredDelimiter` (there is no header to detect
    /// it from) and numbers lines from 1 at that point.
    public var startOffset = 0
    /// Reading stops at the first record that starts at `stop.offset` or later; a class, so that
    /// `onRow` can set it once it has seen the header.
    public final class StopPoint {
        public var offset: Int? = nil
        public init() {}
    }
    public var stop: StopPoint? = nil
    /// Where the record that stopped reading starts: byte offset and line.
    public private(set) var stoppedAt: (offset: Int, line: Int)? = nil
    private let fd: Int32
    private let ownsDescriptor: Bool
    /// Bytes already taken from the stream (to tell its kind), read before the descriptor.
    private let prefix: [UInt8]
    /// Read with `pread` at the reader's own offset: several readers can share one descriptor
    /// of a regular file (the two halves of a split read) without moving each other's position.
    private let positional: Bool

    public init(path: String) throws(CSVError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CSVError(line: 0, reason: "cannot open: \(FileSystem.lastError)")
        }
        var status = stat()
        if fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
            Glibc.close(fd)
            throw CSVError(line: 0, reason: "is a folder, not a CSV file")
        }
        self.fd = fd
        self.ownsDescriptor = true
        self.prefix = []
        self.positional = false
    }

    /// Reads from an open descriptor it does not close: `prefix` first, then the descriptor
    /// (sequentially, or with `pread` from `startOffset` when `positional`).
    public init(descriptor: Int32, prefix: [UInt8] = [], positional: Bool = false) {
        self.fd = descriptor
        self.ownsDescriptor = false
        self.prefix = prefix
        self.positional = positional
    }

    public func close() {
        if ownsDescriptor { _ = Glibc.close(fd) }
    }

    /// Calls `onRow` for every record (the header included) and `onMalformed` for every record
    /// it had to reject. Throws only for what ends the file: read failures and unterminated quotes.
    public mutating func read(
        onRow: (CSVRow) throws -> Void,
        onMalformed: (CSVError) throws -> Void
    ) throws {
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: CSVReader.chunkBytes * 2)
        var capacity = CSVReader.chunkBytes * 2
        defer { buffer.deallocate() }
        var spans: [Span] = []
        spans.reserveCapacity(16)
        var end = 0          // bytes valid in buffer
        var position = 0     // start of the record being parsed
        var line = 1         // line of `position`
        var atEOF = false
        var first = startOffset == 0
        var consumed = startOffset   // file offset of buffer[0]
        var readOffset = startOffset // file offset of the next positional read
        var prefixOffset = 0
        if startOffset > 0 {
            guard let declared = declaredDelimiter, positional || lseek(fd, off_t(startOffset), SEEK_SET) == off_t(startOffset) else {
                throw CSVError(line: 0, reason: "cannot start reading in the middle of the file")
            }
            delimiter = declared
        }

        func fill() throws {
            if position > 0 {
                let remaining = end - position
                if remaining > 0 { memmove(buffer, buffer + position, remaining) }
                end = remaining
                consumed += position
                position = 0
            }
            if capacity - end < CSVReader.chunkBytes {
                let newCapacity = capacity * 2
                let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
                grown.update(from: buffer, count: end)
                buffer.deallocate()
                buffer = grown
                capacity = newCapacity
            }
            if prefixOffset < prefix.count {
                let count = min(capacity - end, prefix.count - prefixOffset)
                prefix.withUnsafeBufferPointer { (buffer + end).update(from: $0.baseAddress! + prefixOffset, count: count) }
                prefixOffset += count
                end += count
                return
            }
            while true {
                let got = positional ? pread(fd, buffer + end, capacity - end, off_t(readOffset)) : Glibc.read(fd, buffer + end, capacity - end)
                if got > 0 { readOffset += got }
                if got < 0 {
                    if errno == EINTR { continue }
                    throw CSVError(line: line, reason: "read failed: \(FileSystem.lastError)")
                }
                if got == 0 { atEOF = true }
                end += got
                return
            }
        }

        /// The record does not fit in what is buffered: keep its start, read more, parse it again.
        func restart() throws {
            if end - position >= CSVReader.maxRecordBytes {
                throw CSVError(line: line, reason: "record is longer than \(CSVReader.maxRecordBytes >> 20) MiB")
            }
            try fill()
        }

        /// After a broken field: the index just past the next line end, or -1 when more data is needed.
        func skipToLineEnd(from start: Int, lines: inout Int) -> Int {
            var k = start
            while k < end {
                if buffer[k] == 0x0A { lines += 1; return k + 1 }
                if buffer[k] == 0x0D {
                    if k + 1 >= end && !atEOF { return -1 }
                    lines += 1
                    return k + ((k + 1 < end && buffer[k + 1] == 0x0A) ? 2 : 1)
                }
                k += 1
            }
            return atEOF ? end : -1
        }

        try fill()
        // A pipe may deliver fewer than the three bytes a BOM needs in its first read.
        while end < 3 && !atEOF { try fill() }
        // A BOM, or several (a file saved again by a tool that adds one each time).
        while first && end - position >= 3 && buffer[position] == 0xEF && buffer[position + 1] == 0xBB && buffer[position + 2] == 0xBF {
            position += 3
            while end - position < 3 && !atEOF { try fill() }
        }

        outer: while true {
            if position >= end {
                if atEOF { break }
                try fill()
                continue
            }
            if first && buffer[position] != 0x0A && buffer[position] != 0x0D {
                // Make sure the whole header line is in the buffer, then pick the delimiter from it
                // (blank lines before the header are skipped as everywhere else).
                while !atEOF && memchr(buffer + position, 0x0A, end - position) == nil && end - position < CSVReader.maxRecordBytes {
                    try fill()
                }
                delimiter = declaredDelimiter ?? CSVReader.detectDelimiter(UnsafeBufferPointer(start: buffer + position, count: end - position))
                first = false
            }
            if let stop = stop?.offset, consumed + position >= stop {
                stoppedAt = (consumed + position, line)
                return
            }
            // Parse one record starting at `position`.
            spans.removeAll(keepingCapacity: true)
            var i = position
            var lines = 0
            var malformed: String? = nil
            let delim = delimiter
            record: while true {
                // Start of a field.
                if i >= end {
                    if !atEOF { try restart(); continue outer }
                    spans.append(Span(start: i - position, end: i - position, hasDoubledQuotes: false))
                    break record
                }
                if buffer[i] == UInt8(ascii: "\"") {
                    let fieldStart = i + 1
                    var j = fieldStart
                    var doubled = false
                    var closed = false
                    while j < end {
                        let byte = buffer[j]
                        if byte == UInt8(ascii: "\"") {
                            if j + 1 >= end && !atEOF { break }
                            if j + 1 < end && buffer[j + 1] == UInt8(ascii: "\"") {
                                doubled = true
                                j += 2
                                continue
                            }
                            closed = true
                            break
                        }
                        if byte == 0x0A { lines += 1 } else if byte == 0x0D && (j + 1 >= end || buffer[j + 1] != 0x0A) { lines += 1 }
                        if byte == 0 { malformed = malformed ?? "NUL byte in field" }
                        j += 1
                    }
                    if !closed {
                        if atEOF { throw CSVError(line: line, reason: "unterminated quoted field") }
                        try restart(); continue outer
                    }
                    spans.append(Span(start: fieldStart - position, end: j - position, hasDoubledQuotes: doubled))
                    i = j + 1
                    if i >= end {
                        if !atEOF { try restart(); continue outer }
                        break record
                    }
                    let next = buffer[i]
                    if next == delim { i += 1; continue record }
                    if next == 0x0A { i += 1; lines += 1; break record }
                    if next == 0x0D {
                        if i + 1 >= end && !atEOF { try restart(); continue outer }
                        i += (i + 1 < end && buffer[i + 1] == 0x0A) ? 2 : 1
                        lines += 1
                        break record
                    }
                    malformed = malformed ?? "unexpected text after a closing quote"
                    i = skipToLineEnd(from: i, lines: &lines)
                    if i < 0 { try restart(); continue outer }
                    break record
                } else {
                    var j = i
                    while j < end {
                        let byte = buffer[j]
                        if byte == delim || byte == 0x0A || byte == 0x0D { break }
                        if byte == UInt8(ascii: "\"") { malformed = malformed ?? "stray quote in an unquoted field" }
                        if byte == 0 { malformed = malformed ?? "NUL byte in field" }
                        j += 1
                    }
                    if j >= end && !atEOF { try restart(); continue outer }
                    spans.append(Span(start: i - position, end: j - position, hasDoubledQuotes: false))
                    if j >= end { i = j; break record }
                    let byte = buffer[j]
                    if byte == delim { i = j + 1; continue record }
                    if byte == 0x0D {
                        if j + 1 >= end && !atEOF { try restart(); continue outer }
                        i = j + ((j + 1 < end && buffer[j + 1] == 0x0A) ? 2 : 1)
                    } else {
                        i = j + 1
                    }
                    lines += 1
                    break record
                }
            }
            let recordLine = line
            let isBlank = spans.count == 1 && spans[0].start == spans[0].end && (i - position) <= 2
                && (i == position || buffer[position] == 0x0A || buffer[position] == 0x0D)
            if let reason = malformed {
                try onMalformed(CSVError(line: recordLine, reason: reason))
            } else if !isBlank {
                try spans.withUnsafeBufferPointer { spanBuffer in
                    try onRow(CSVRow(base: UnsafePointer(buffer + position), spans: spanBuffer, line: recordLine, delimiter: delim))
                }
            }
            line += lines
            position = i
        }

    }

    /// `;` when the header line has at least as many semicolons as commas outside quotes, else `,`.
    static func detectDelimiter(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt8 {
        var commas = 0
        var semicolons = 0
        var tabs = 0
        var quoted = false
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { quoted.toggle(); continue }
            if quoted { continue }
            if byte == 0x0A || byte == 0x0D { break }
            if byte == UInt8(ascii: ",") { commas += 1 }
            if byte == UInt8(ascii: ";") { semicolons += 1 }
            if byte == 0x09 { tabs += 1 }
        }
        // A header with tabs and neither commas nor semicolons: tab-separated, as Excel's
        // "Unicode text" is.
        if tabs > 0 && commas == 0 && semicolons == 0 { return 0x09 }
        return semicolons > 0 && semicolons >= commas ? UInt8(ascii: ";") : UInt8(ascii: ",")
    }
}
