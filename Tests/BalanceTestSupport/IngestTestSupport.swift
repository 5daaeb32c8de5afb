import Foundation
import Glibc
import Testing
import BalancePipeline
import BalanceSend
import BalanceOutput
import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport

// Helpers of the Ingest tests. Names carry an `Ingest` prefix so they cannot collide with the
// helpers other test folders define.

/// A fresh folder under the system temporary folder; call `remove()` when done.
struct IngestScratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("balance-report-ingest-tests-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Writes `bytes` to a file of the folder and returns its path.
    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let path = url.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, bytes: Array(text.utf8))
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

enum IngestFixtures {
    /// `Tests/BalanceTestSupport/Fixtures`, as copied into the test bundle.
    static var root: URL {
        get throws {
            try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil), "the Fixtures resource folder is missing")
        }
    }

    static func path(_ relative: String) throws -> String {
        let path = try root.appendingPathComponent(relative).path
        #expect(FileManager.default.fileExists(atPath: path), "missing fixture \(relative)")
        return path
    }
}

/// Everything `CSVReader.read` reported, copied out of the callbacks.
struct IngestCSVCapture: Equatable, CustomStringConvertible {
    /// Fields decoded leniently (U+FFFD for bad bytes), so a comparison shows what went wrong.
    var rows: [[String]] = []
    /// Raw field bytes, for the cases where exact bytes matter.
    var rawRows: [[[UInt8]]] = []
    var lines: [Int] = []
    var malformed: [CSVError] = []
    var thrown: CSVError? = nil
    var delimiter: UInt8? = nil

    var description: String {
        "rows=\(rows) lines=\(lines) malformed=\(malformed) thrown=\(String(describing: thrown)) delimiter=\(delimiter.map { String(UnicodeScalar($0)) } ?? "-")"
    }

    mutating func add(_ row: CSVRow) {
        var raw: [[UInt8]] = []
        for index in 0..<row.count {
            raw.append(row.withField(index) { Array($0) })
        }
        rawRows.append(raw)
        rows.append(raw.map { String(decoding: $0, as: UTF8.self) })
        lines.append(row.line)
        if delimiter == nil { delimiter = row.delimiter }
    }
}

enum IngestCSVTestReader {
    static func read(path: String) -> IngestCSVCapture {
        var capture = IngestCSVCapture()
        do {
            var reader = try CSVReader(path: path)
            defer { reader.close() }
            try reader.read(onRow: { capture.add($0) }, onMalformed: { capture.malformed.append($0) })
        } catch let error as CSVError {
            capture.thrown = error
        } catch {
            capture.thrown = CSVError(line: -1, reason: "unexpected error \(error)")
        }
        return capture
    }

    static func read(bytes: [UInt8], in scratch: IngestScratch, name: String = "input.csv") throws -> IngestCSVCapture {
        read(path: try scratch.write(name, bytes: bytes))
    }

    static func read(_ text: String, in scratch: IngestScratch) throws -> IngestCSVCapture {
        try read(bytes: Array(text.utf8), in: scratch)
    }

    /// Reads `segments` through a pipe. With `oneReadEach`, the writer waits until the pipe is
    /// empty before it writes the next segment, so each `read(2)` of the reader returns exactly one
    /// segment (segments must be at most PIPE_BUF bytes): the buffer boundaries fall exactly
    /// between the segments.
    static func readThroughPipe(_ segments: [[UInt8]], oneReadEach: Bool) -> IngestCSVCapture {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return IngestCSVCapture(thrown: CSVError(line: -1, reason: "pipe failed")) }
        let readFD = fds[0]
        let writeFD = fds[1]
        let finished = DispatchSemaphore(value: 0)
        // The reader side drains the pipe before closing it, so the writer never meets EPIPE/SIGPIPE.
        let writer = Thread {
            for segment in segments {
                if oneReadEach {
                    while true {
                        var pending: Int32 = 0
                        if ioctl(readFD, UInt(FIONREAD), &pending) != 0 || pending == 0 { break }
                        usleep(20)
                    }
                }
                var offset = 0
                while offset < segment.count {
                    let wrote = segment[offset...].withUnsafeBytes { Glibc.write(writeFD, $0.baseAddress, $0.count) }
                    if wrote < 0 { if errno == EINTR { continue }; break }
                    offset += wrote
                }
            }
            Glibc.close(writeFD)
            finished.signal()
        }
        writer.start()
        var capture = IngestCSVCapture()
        do {
            var reader = CSVReader(descriptor: readFD)
            try reader.read(onRow: { capture.add($0) }, onMalformed: { capture.malformed.append($0) })
        } catch let error as CSVError {
            capture.thrown = error
        } catch {
            capture.thrown = CSVError(line: -1, reason: "unexpected error \(error)")
        }
        // Drain whatever the reader left so the writer can finish, then close our end.
        var sink = [UInt8](repeating: 0, count: 65_536)
        while Glibc.read(readFD, &sink, sink.count) > 0 {}
        finished.wait()
        Glibc.close(readFD)
        return capture
    }
}

/// A small deterministic generator (SplitMix64): the same cases on every run.
struct IngestRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
