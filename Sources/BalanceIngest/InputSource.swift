import BalanceModel
import BalanceSupport
import Dispatch
import Glibc
import Synchronization

/// One input file, opened exactly once (a named pipe or `<(zcat x.gz)` cannot be opened twice:
/// a second open would wait for a writer that is gone). Everything that reads it — kind
/// detection, gzip, the encoding probe, the reader, the second half of a split read — reads
/// this one descriptor.
final class InputSource {
    let path: String
    let fd: Int32
    /// A regular file: it can be read at any offset (`pread`), and its size is known.
    let isRegular: Bool
    let size: Int
    /// The content is gzip data, inflated as it streams.
    let isGzip: Bool
    /// The first bytes of the content (after inflating), for kind detection.
    let head: [UInt8]
    /// Bytes of the content already taken from a stream that cannot be read twice; the reader
    /// gets them first.
    private let consumed: [UInt8]
    /// The descriptor the content is read from: `fd` itself, or the pipe of a pump.
    private let contentFD: Int32
    private var pumps: [StreamPump] = []

    static let headBytes = 512

    private init(path: String, fd: Int32, isRegular: Bool, size: Int, isGzip: Bool, head: [UInt8], consumed: [UInt8],
                 contentFD: Int32, pumps: [StreamPump]) {
        self.path = path
        self.fd = fd
        self.isRegular = isRegular
        self.size = size
        self.isGzip = isGzip
        self.head = head
        self.consumed = consumed
        self.contentFD = contentFD
        self.pumps = pumps
    }

    deinit {
        _ = finish()
        close(fd)
    }

    /// Opens `path` and looks at its first bytes. A folder, or a file that cannot be opened, is a failure.
    static func open(_ path: String) throws(FileFailure) -> InputSource {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw FileFailure(file: -1, line: nil, reason: "cannot open: \(FileSystem.lastError)")
        }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let reason = FileSystem.lastError
            Glibc.close(fd)
            throw FileFailure(file: -1, line: nil, reason: "cannot read: \(reason)")
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            Glibc.close(fd)
            throw FileFailure(file: -1, line: nil, reason: "is a folder, not an export file (name the files in it)")
        }
        let isRegular = (status.st_mode & S_IFMT) == S_IFREG
        let size = isRegular ? Int(status.st_size) : 0
        do {
            // A regular file is peeked at without moving its offset; a stream's first bytes are kept.
            let first = isRegular ? try peek(fd, count: headBytes) : try readUpTo(fd, count: headBytes)
            let consumed = isRegular ? [] : first
            if first.starts(with: [0x1F, 0x8B]) {
                let pump = StreamPump(source: fd, prefix: consumed, transform: .gunzip)
                let inflated = try readUpTo(pump.readFD, count: headBytes)
                return InputSource(path: path, fd: fd, isRegular: isRegular, size: size, isGzip: true, head: inflated,
                                   consumed: inflated, contentFD: pump.readFD, pumps: [pump])
            }
            return InputSource(path: path, fd: fd, isRegular: isRegular, size: size, isGzip: false, head: first,
                               consumed: consumed, contentFD: fd, pumps: [])
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// A regular file read as it is: its bytes can be read at any offset by several readers at once.
    var isPlainFile: Bool { isRegular && !isGzip }

    /// An XML export: named `.xml` (or `.xml.gz`), or its first non-blank byte (after a BOM) is `<`.
    var looksLikeXML: Bool {
        let name = path.lowercased()
        if name.hasSuffix(".xml") || name.hasSuffix(".xml.gz") { return true }
        var bytes = head[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        return bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "<")
    }

    /// A CSV reader over the content from its start. It reads sequentially, so the descriptor's
    /// offset shows how far it has come (the progress line reads it from /proc); everything else
    /// that reads a plain file reads it with `pread` and leaves that offset alone.
    func csvReader() -> CSVReader {
        CSVReader(descriptor: contentFD, prefix: consumed, positional: false)
    }

    /// A CSV reader over the plain file's bytes from `offset` (a line start) to the end.
    func csvReader(from offset: Int) -> CSVReader {
        precondition(isPlainFile)
        var reader = CSVReader(descriptor: fd, prefix: [], positional: true)
        reader.startOffset = offset
        return reader
    }

    /// A CSV reader over UTF-16 content (after its BOM) transcoded to UTF-8 as it streams: Excel's
    /// "Unicode text". Works for every kind of input (a pipe, a .gz): the content is read once.
    func utf16CSVReader(bigEndian: Bool) -> CSVReader {
        let pump = StreamPump(source: contentFD, prefix: consumed, transform: .utf16(bigEndian: bigEndian))
        pumps.append(pump)
        return CSVReader(descriptor: pump.readFD, prefix: [], positional: false)
    }

    /// A CSV reader over the Windows-1251 content transcoded to UTF-8 as it streams.
    func transcodingCSVReader() -> CSVReader {
        precondition(isPlainFile)
        let pump = StreamPump(source: fd, prefix: [], transform: .windows1251)
        pumps.append(pump)
        return CSVReader(descriptor: pump.readFD, prefix: [], positional: false)
    }

    /// The content as a byte feed (for libxml2's I/O callbacks).
    func feed() -> ByteFeed {
        ByteFeed(fd: contentFD, prefix: consumed)
    }

    /// Stops every pump and returns the first failure one of them had (a broken gzip stream, a
    /// read error behind the reader's back): the content the reader saw is then cut short.
    func finish() -> String? {
        var failure: String? = nil
        for pump in pumps {
            if let problem = pump.finish(), failure == nil { failure = problem }
        }
        pumps = []
        return failure
    }

    /// Up to `count` bytes from offset 0 of a regular file, without moving its offset.
    static func peek(_ fd: Int32, count: Int) throws(FileFailure) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        while true {
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, 0) }
            if got < 0 {
                if errno == EINTR { continue }
                throw FileFailure(file: -1, line: nil, reason: "cannot read: \(FileSystem.lastError)")
            }
            return Array(bytes[0..<got])
        }
    }

    /// Reads until `count` bytes or the end of the stream.
    static func readUpTo(_ fd: Int32, count: Int) throws(FileFailure) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, count - filled) }
            if got < 0 {
                if errno == EINTR { continue }
                throw FileFailure(file: -1, line: nil, reason: "cannot read: \(FileSystem.lastError)")
            }
            if got == 0 { break }
            filled += got
        }
        return Array(bytes[0..<filled])
    }
}

/// Bytes already read, then the rest of a descriptor: what libxml2's read callback serves.
final class ByteFeed {
    let fd: Int32
    private var prefix: [UInt8]
    private var prefixOffset = 0
    /// An I/O error, for the message; libxml2 only hears that reading failed.
    private(set) var failure: String? = nil

    init(fd: Int32, prefix: [UInt8]) {
        self.fd = fd
        self.prefix = prefix
    }

    /// Fills up to `count` bytes; 0 at the end, -1 on failure.
    func read(into buffer: UnsafeMutablePointer<UInt8>, count: Int) -> Int {
        guard failure == nil else { return -1 }
        var got = 0
        if prefixOffset < prefix.count {
            got = min(count, prefix.count - prefixOffset)
            prefix.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress! + prefixOffset, count: got) }
            prefixOffset += got
        } else {
            while true {
                got = Glibc.read(fd, buffer, count)
                if got < 0 {
                    if errno == EINTR { continue }
                    failure = "read failed: \(FileSystem.lastError)"
                    return -1
                }
                break
            }
        }
        return got
    }
}
