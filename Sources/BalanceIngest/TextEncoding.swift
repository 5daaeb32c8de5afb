import BalanceModel
import BalanceSupport
import Glibc

/// The text encodings a CSV export may come in. XML documents declare their own encoding in their
/// `<?xml … encoding="…"?>` line, which libxml2 reads; this setting is for CSV only.
public enum TextEncoding: String, Sendable, CaseIterable {
    /// UTF-8 only (with or without BOM). Invalid bytes are rejected with `file:line`.
    case utf8 = "utf-8"
    /// Windows-1251 or UTF-8, told apart per file and never guessed: a file with a UTF-8 BOM, or
    /// whose bytes are all valid UTF-8, is UTF-8 (plain ASCII reads the same either way; real
    /// Windows-1251 Cyrillic is never valid UTF-8); any other file is Windows-1251 and is transcoded
    /// to UTF-8 before it is parsed. A byte Windows-1251 does not define (0x98) rejects the file
    /// with its line.
    case windows1251 = "windows-1251"

    /// `utf-8`/`utf8`, `windows-1251`/`cp1251`/`cp-1251`/`win-1251`, any case.
    public static func named(_ name: String) -> TextEncoding? {
        switch name.trimmingWhitespace().lowercased() {
        case "utf-8", "utf8": return .utf8
        case "windows-1251", "windows1251", "cp1251", "cp-1251", "win-1251", "win1251": return .windows1251
        default: return nil
        }
    }
}

/// What one pass over a file's bytes found out about its encoding.
struct EncodingProbe: Equatable {
    var hasUTF8BOM = false
    var isValidUTF8 = true
    var hasNonASCII = false
    /// The 1-based line of the first byte Windows-1251 leaves undefined (0x98), if any.
    var undefined1251Line: Int? = nil

    /// Reads `fd` to its end (with `pread` from offset 0 when `positional`, leaving its offset
    /// alone). Lines are counted as the CSV reader counts them (LF, CR, CRLF).
    static func scan(_ fd: Int32, positional: Bool = false) throws(CSVError) -> EncodingProbe {
        var probe = EncodingProbe()
        let capacity = 1 << 20
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var line = 1
        var previousCR = false
        var need = 0
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        var head: [UInt8] = []
        var offset = 0
        while true {
            let got = positional ? pread(fd, buffer, capacity, off_t(offset)) : read(fd, buffer, capacity)
            if got < 0 {
                if errno == EINTR { continue }
                throw CSVError(line: line, reason: "read failed: \(FileSystem.lastError)")
            }
            if got == 0 { break }
            offset += got
            if head.count < 3 { head.append(contentsOf: UnsafeBufferPointer(start: buffer, count: min(got, 3 - head.count))) }
            for index in 0..<got {
                let byte = buffer[index]
                if byte < 0x80 {
                    if byte == 0x0A {
                        if !previousCR { line += 1 }
                        previousCR = false
                    } else if byte == 0x0D {
                        line += 1
                        previousCR = true
                    } else {
                        previousCR = false
                    }
                    if need > 0 { probe.isValidUTF8 = false; need = 0 }
                    continue
                }
                previousCR = false
                probe.hasNonASCII = true
                if byte == 0x98 && probe.undefined1251Line == nil { probe.undefined1251Line = line }
                guard probe.isValidUTF8 else { continue }
                if need > 0 {
                    if byte < low || byte > high { probe.isValidUTF8 = false; continue }
                    need -= 1
                    low = 0x80
                    high = 0xBF
                    continue
                }
                switch byte {
                case 0xC2...0xDF: need = 1
                case 0xE0: need = 2; low = 0xA0
                case 0xE1...0xEC, 0xEE, 0xEF: need = 2
                case 0xED: need = 2; high = 0x9F
                case 0xF0: need = 3; low = 0x90
                case 0xF1...0xF3: need = 3
                case 0xF4: need = 3; high = 0x8F
                default: probe.isValidUTF8 = false
                }
            }
        }
        if need > 0 { probe.isValidUTF8 = false }
        probe.hasUTF8BOM = head == [0xEF, 0xBB, 0xBF]
        return probe
    }
}

/// Windows-1251 → UTF-8, byte by byte (the encoding is single-byte and ASCII-compatible, so
/// delimiters, quotes and line ends keep their places and CSV line numbers stay true).
enum Windows1251 {
    /// Unicode scalars of bytes 0x80…0xFF; 0 where the code page defines nothing (0x98).
    static let upperHalf: [UInt32] = [
        0x0402, 0x0403, 0x201A, 0x0453, 0x201E, 0x2026, 0x2020, 0x2021, 0x20AC, 0x2030, 0x0409, 0x2039, 0x040A, 0x040C, 0x040B, 0x040F,
        0x0452, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0, 0x2122, 0x0459, 0x203A, 0x045A, 0x045C, 0x045B, 0x045F,
        0x00A0, 0x040E, 0x045E, 0x0408, 0x00A4, 0x0490, 0x00A6, 0x00A7, 0x0401, 0x00A9, 0x0404, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x0407,
        0x00B0, 0x00B1, 0x0406, 0x0456, 0x0491, 0x00B5, 0x00B6, 0x00B7, 0x0451, 0x2116, 0x0454, 0x00BB, 0x0458, 0x0405, 0x0455, 0x0457,
        0x0410, 0x0411, 0x0412, 0x0413, 0x0414, 0x0415, 0x0416, 0x0417, 0x0418, 0x0419, 0x041A, 0x041B, 0x041C, 0x041D, 0x041E, 0x041F,
        0x0420, 0x0421, 0x0422, 0x0423, 0x0424, 0x0425, 0x0426, 0x0427, 0x0428, 0x0429, 0x042A, 0x042B, 0x042C, 0x042D, 0x042E, 0x042F,
        0x0430, 0x0431, 0x0432, 0x0433, 0x0434, 0x0435, 0x0436, 0x0437, 0x0438, 0x0439, 0x043A, 0x043B, 0x043C, 0x043D, 0x043E, 0x043F,
        0x0440, 0x0441, 0x0442, 0x0443, 0x0444, 0x0445, 0x0446, 0x0447, 0x0448, 0x0449, 0x044A, 0x044B, 0x044C, 0x044D, 0x044E, 0x044F,
    ]

    /// Each upper-half byte's UTF-8 form packed as `length | b0 << 8 | b1 << 16 | b2 << 24`. The
    /// undefined byte becomes 0xFF, which is not UTF-8, so it can never pass as text.
    static let packed: [UInt32] = upperHalf.map { scalar in
        if scalar == 0 { return 1 | 0xFF << 8 }
        if scalar < 0x800 {
            return 2 | (0xC0 | scalar >> 6) << 8 | (0x80 | scalar & 0x3F) << 16
        }
        return 3 | (0xE0 | scalar >> 12) << 8 | (0x80 | (scalar >> 6) & 0x3F) << 16 | (0x80 | scalar & 0x3F) << 24
    }

    /// Transcodes `count` bytes at `input` into `output` (room for `3 * count` bytes); returns the
    /// number of bytes written.
    static func transcode(_ input: UnsafePointer<UInt8>, count: Int, into output: UnsafeMutablePointer<UInt8>) -> Int {
        var written = 0
        packed.withUnsafeBufferPointer { table in
            for index in 0..<count {
                let byte = input[index]
                if byte < 0x80 {
                    output[written] = byte
                    written += 1
                    continue
                }
                let entry = table[Int(byte) - 0x80]
                let length = Int(entry & 0xFF)
                output[written] = UInt8(truncatingIfNeeded: entry >> 8)
                if length > 1 { output[written + 1] = UInt8(truncatingIfNeeded: entry >> 16) }
                if length > 2 { output[written + 2] = UInt8(truncatingIfNeeded: entry >> 24) }
                written += length
            }
        }
        return written
    }

    static func toUTF8(_ bytes: [UInt8]) -> [UInt8] {
        if bytes.isEmpty { return [] }
        var output = [UInt8](repeating: 0, count: bytes.count * 3)
        let written = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                transcode(input.baseAddress!, count: input.count, into: out.baseAddress!)
            }
        }
        return Array(output[..<written])
    }
}

/// A CSV input opened in the encoding declared for it.
final class EncodedCSVInput {
    var reader: CSVReader
    /// What the file turned out to be.
    let encoding: TextEncoding
    let source: InputSource
    /// The reader reads the plain file itself (no transcoding, no inflating), so a part of it can
    /// be read on its own.
    let readsFileDirectly: Bool

    private init(reader: CSVReader, encoding: TextEncoding, source: InputSource, direct: Bool) {
        self.reader = reader
        self.encoding = encoding
        self.source = source
        self.readsFileDirectly = direct
    }

    /// Opens a file by path (tests; the Ingestor opens its inputs itself).
    static func open(path: String, declared: TextEncoding) throws(CSVError) -> EncodedCSVInput {
        do {
            return try open(try InputSource.open(path), declared: declared)
        } catch let failure as FileFailure {
            throw CSVError(line: failure.line ?? 0, reason: failure.reason)
        } catch let error as CSVError {
            throw error
        } catch {
            throw CSVError(line: 0, reason: "\(error)")
        }
    }

    static func open(_ source: InputSource, declared: TextEncoding) throws(CSVError) -> EncodedCSVInput {
        // UTF-16 with a BOM (Excel's "Save as Unicode text"): its BOM says what it is, whatever
        // was declared; read as UTF-8 (tab-delimited, as Excel writes it, is told from the header).
        if source.head.starts(with: [0xFF, 0xFE]) || source.head.starts(with: [0xFE, 0xFF]) {
            return EncodedCSVInput(reader: source.utf16CSVReader(bigEndian: source.head[0] == 0xFE), encoding: .utf8,
                                   source: source, direct: false)
        }
        if declared == .utf8 {
            return EncodedCSVInput(reader: source.csvReader(), encoding: .utf8, source: source, direct: source.isPlainFile)
        }
        guard source.isPlainFile else {
            // The file must be read twice (once to tell the encoding, once to parse).
            throw CSVError(line: 0, reason: "Windows-1251 detection needs a regular, uncompressed file, not a pipe, device or .gz")
        }
        let probe = try EncodingProbe.scan(source.fd, positional: true)
        if probe.hasUTF8BOM || probe.isValidUTF8 {
            return EncodedCSVInput(reader: source.csvReader(), encoding: .utf8, source: source, direct: true)
        }
        if let line = probe.undefined1251Line {
            throw CSVError(line: line, reason: "the file is neither UTF-8 nor Windows-1251: byte 0x98 is not a Windows-1251 character")
        }
        return EncodedCSVInput(reader: source.transcodingCSVReader(), encoding: .windows1251, source: source, direct: false)
    }

    /// The marker of a record rejected for text that is not UTF-8 (`RecordDecoder`'s reason ends with it).
    static let invalidUTF8Reason = "is not valid UTF-8"

    /// A file read as UTF-8 whose records held text that is not UTF-8 (`rejections`, this file's)
    /// while its bytes read cleanly as Windows-1251 is an undeclared Windows-1251 export: refused as
    /// a whole with the fix (`--encoding cp1251`), so that no one renders the rest and drops the
    /// money of those rows. `nil` when the file was not read as UTF-8, held no such text, is not a
    /// plain file (a pipe or `.gz` cannot be read twice), or is not Windows-1251 either. Call it
    /// before `finish()`.
    func undeclaredWindows1251(_ rejections: ArraySlice<Rejection>) -> (line: Int, reason: String)? {
        guard encoding == .utf8, source.isPlainFile,
              let first = rejections.first(where: { $0.isRecord && $0.reason.hasSuffix(EncodedCSVInput.invalidUTF8Reason) }),
              let probe = try? EncodingProbe.scan(source.fd, positional: true),
              !probe.isValidUTF8, !probe.hasUTF8BOM, probe.undefined1251Line == nil else { return nil }
        return (Int(first.source.line), first.reason + ", and the file reads as Windows-1251: "
                + "declare its encoding (--encoding cp1251, or encoding: cp1251 in the import profile) and run again")
    }

    /// Ends reading; returns a failure that happened behind the reader's back (a cut-short stream).
    func finish() -> String? {
        source.finish()
    }
}
