internal import CZlib
import BalanceModel
import BalanceSupport
import Dispatch
import Glibc
import Synchronization

/// A thread that reads a descriptor, changes the bytes (inflates gzip, transcodes Windows-1251)
/// and writes them into a pipe the reader reads: memory stays bounded whatever the size, and the
/// reader sees the same byte stream (and line numbers) as for a plain file.
final class StreamPump: Sendable {
    enum Transform: Sendable { case gunzip, windows1251, utf16(bigEndian: Bool) }

    let readFD: Int32
    private let cancelled = Atomic<Bool>(false)
    private let failure = Mutex<String?>(nil)
    private let finished = DispatchSemaphore(value: 0)
    private let closed = Atomic<Bool>(false)

    /// Reads `prefix`, then `source` from its current offset, to its end. `source` stays open.
    init(source: Int32, prefix: [UInt8], transform: Transform) {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) != 0 {
            readFD = -1
            failure.withLock { $0 = "cannot create a pipe: \(FileSystem.lastError)" }
            finished.signal()
            return
        }
        readFD = fds[0]
        let writeFD = fds[1]
        _ = fcntl(readFD, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeFD, F_SETFD, FD_CLOEXEC)
        // A larger pipe means fewer context switches; the default (64 KiB) still works.
        // F_SETPIPE_SZ (Linux, 1024 + 7) is hidden behind _GNU_SOURCE in Glibc's module.
        _ = fcntl(writeFD, 1031, Int32(1 << 20))
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            let problem: String?
            switch transform {
            case .windows1251: problem = transcode(prefix: prefix, source: source, to: writeFD)
            case .utf16(let bigEndian): problem = transcodeUTF16(prefix: prefix, source: source, to: writeFD, bigEndian: bigEndian)
            case .gunzip: problem = inflate(prefix: prefix, source: source, to: writeFD)
            }
            if let problem { failure.withLock { $0 = problem } }
            close(writeFD)
            finished.signal()
        }
    }

    /// Reads the next chunk: what is left of `prefix`, then the descriptor.
    private func readChunk(_ prefix: inout ArraySlice<UInt8>, _ source: Int32, _ buffer: UnsafeMutablePointer<UInt8>, _ capacity: Int) -> Result<Int, PumpFailure> {
        if !prefix.isEmpty {
            let count = min(capacity, prefix.count)
            prefix.prefix(count).withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: count) }
            prefix = prefix.dropFirst(count)
            return .success(count)
        }
        while true {
            let got = read(source, buffer, capacity)
            if got < 0 {
                if errno == EINTR { continue }
                return .failure(PumpFailure(reason: "read failed: \(FileSystem.lastError)"))
            }
            return .success(got)
        }
    }

    private struct PumpFailure: Error { var reason: String }

    /// Writes everything, unless the reader has gone (then there is no one to write for).
    private func writeAll(_ fd: Int32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        var offset = 0
        while offset < count {
            if cancelled.load(ordering: .relaxed) { return false }
            let wrote = write(fd, bytes + offset, count - offset)
            if wrote < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += wrote
        }
        return true
    }

    private func transcode(prefix: [UInt8], source: Int32, to writeFD: Int32) -> String? {
        let chunk = 1 << 20
        let input = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
        let output = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk * 3)
        defer {
            input.deallocate()
            output.deallocate()
        }
        var rest = prefix[...]
        while !cancelled.load(ordering: .relaxed) {
            switch readChunk(&rest, source, input, chunk) {
            case .failure(let failure): return failure.reason
            case .success(0): return nil
            case .success(let got):
                let count = Windows1251.transcode(input, count: got, into: output)
                if !writeAll(writeFD, output, count) { return nil }
            }
        }
        return nil
    }

    /// UTF-16 (its BOM, the first two bytes, dropped) as UTF-8. A lone surrogate, or an odd byte
    /// at the end, stops the read with a failure: nothing is guessed.
    private func transcodeUTF16(prefix: [UInt8], source: Int32, to writeFD: Int32, bigEndian: Bool) -> String? {
        let chunk = 1 << 20
        let input = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
        let output = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk * 2 + 8)
        defer {
            input.deallocate()
            output.deallocate()
        }
        var rest = prefix[...]
        var skip = 2             // the BOM
        var carry: UInt8? = nil  // an odd byte left from the last chunk
        var high: UInt32? = nil  // a high surrogate waiting for its low half
        var units = 0
        while !cancelled.load(ordering: .relaxed) {
            let got: Int
            switch readChunk(&rest, source, input, chunk) {
            case .failure(let failure): return failure.reason
            case .success(let count): got = count
            }
            if got == 0 {
                if carry != nil { return "the UTF-16 text ends in half a character" }
                if high != nil { return "the UTF-16 text ends in half a surrogate pair" }
                return nil
            }
            var count = 0
            func emit(_ scalar: UInt32) {
                switch scalar {
                case ..<0x80:
                    output[count] = UInt8(scalar); count += 1
                case ..<0x800:
                    output[count] = UInt8(0xC0 | scalar >> 6); output[count + 1] = UInt8(0x80 | scalar & 0x3F); count += 2
                case ..<0x10000:
                    output[count] = UInt8(0xE0 | scalar >> 12); output[count + 1] = UInt8(0x80 | scalar >> 6 & 0x3F)
                    output[count + 2] = UInt8(0x80 | scalar & 0x3F); count += 3
                default:
                    output[count] = UInt8(0xF0 | scalar >> 18); output[count + 1] = UInt8(0x80 | scalar >> 12 & 0x3F)
                    output[count + 2] = UInt8(0x80 | scalar >> 6 & 0x3F); output[count + 3] = UInt8(0x80 | scalar & 0x3F); count += 4
                }
            }
            var index = 0
            while index < got {
                if skip > 0 { skip -= 1; index += 1; continue }
                guard let first = carry else { carry = input[index]; index += 1; continue }
                let second = input[index]
                index += 1
                carry = nil
                let unit = bigEndian ? UInt32(first) << 8 | UInt32(second) : UInt32(second) << 8 | UInt32(first)
                units += 1
                if let pending = high {
                    guard (0xDC00...0xDFFF).contains(unit) else { return "the UTF-16 text has a lone surrogate (code unit \(units - 1))" }
                    emit(0x10000 + ((pending - 0xD800) << 10) + (unit - 0xDC00))
                    high = nil
                } else if (0xD800...0xDBFF).contains(unit) {
                    high = unit
                } else if (0xDC00...0xDFFF).contains(unit) {
                    return "the UTF-16 text has a lone surrogate (code unit \(units))"
                } else {
                    emit(unit)
                }
            }
            if !writeAll(writeFD, output, count) { return nil }
        }
        return nil
    }

    /// Inflates gzip data; several members one after another (as `cat a.gz b.gz` makes) are one stream.
    private func inflate(prefix: [UInt8], source: Int32, to writeFD: Int32) -> String? {
        let inChunk = 1 << 18
        let outChunk = 1 << 20
        let input = UnsafeMutablePointer<UInt8>.allocate(capacity: inChunk)
        let output = UnsafeMutablePointer<UInt8>.allocate(capacity: outChunk)
        var stream = z_stream()
        defer {
            inflateEnd(&stream)
            input.deallocate()
            output.deallocate()
        }
        // 15 + 16: a gzip wrapper, the largest window.
        guard br_inflateInit2(&stream, 15 + 16) == Z_OK else { return "cannot start inflating gzip data" }
        var rest = prefix[...]
        var inMember = true
        var atEnd = false
        while !cancelled.load(ordering: .relaxed) {
            if stream.avail_in == 0 && !atEnd {
                switch readChunk(&rest, source, input, inChunk) {
                case .failure(let failure): return failure.reason
                case .success(0): atEnd = true
                case .success(let got):
                    stream.next_in = input
                    stream.avail_in = UInt32(got)
                }
            }
            if stream.avail_in == 0 && atEnd {
                return inMember ? "the gzip data is cut short (the file ends inside a compressed member)" : nil
            }
            if !inMember {
                // Another member follows the one that ended.
                guard inflateReset(&stream) == Z_OK else { return "cannot inflate the next gzip member" }
                inMember = true
            }
            stream.next_out = output
            stream.avail_out = UInt32(outChunk)
            let status = CZlib.inflate(&stream, Z_NO_FLUSH)
            let produced = outChunk - Int(stream.avail_out)
            if produced > 0 && !writeAll(writeFD, output, produced) { return nil }
            switch status {
            case Z_OK, Z_BUF_ERROR: continue
            case Z_STREAM_END: inMember = false
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                return "not valid gzip data (\(message))"
            }
        }
        return nil
    }

    /// Stops the pump (the reader may have stopped early), waits for it and closes the pipe.
    /// Returns the pump's failure, if it had one: the reader then saw a cut-short stream.
    func finish() -> String? {
        guard !closed.exchange(true, ordering: .relaxed) else { return nil }
        cancelled.store(true, ordering: .relaxed)
        if readFD >= 0 {
            // Drain what is in flight so a pump blocked on a full pipe can see the flag.
            let sink = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 16)
            defer { sink.deallocate() }
            while true {
                let got = read(readFD, sink, 1 << 16)
                if got > 0 { continue }
                if got < 0 && errno == EINTR { continue }
                break
            }
        }
        finished.wait()
        if readFD >= 0 { close(readFD) }
        return failure.withLock { $0 }
    }
}
