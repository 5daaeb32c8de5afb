import BalanceSend
import BalanceOutput
import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
import Foundation
import Glibc

/// The two files `split-export` writes (`--rows`, `--part`): never the export it reads, never one
/// over the other, never over a file the tool did not make (SPEC §3: it replaces only what it wrote).
/// An existing file is replaced only when it is empty or is one of the tool's own (a rows file or an
/// input part); each is written to a fresh file beside it and renamed over it once complete.
public enum SplitOutputs {
    public enum Kind: Sendable { case rows, part }

    /// Refuses, before anything is read, outputs that would replace an input, each other, or a stranger.
    public static func check(rows: String, part: String, input: String) throws(Diagnostic) {
        let inputIdentity = identity(input)
        let inputResolved = FileSystem.resolved(input)
        for (option, path) in [("--rows", rows), ("--part", part)] {
            if let inputResolved, target(path).utf8.elementsEqual(inputResolved.utf8)
                || (inputIdentity != nil && identity(path) == inputIdentity) {
                throw Diagnostic("\(option) \(path) is the export file split-export reads (\(input)); give another path, nothing written")
            }
        }
        if target(rows).utf8.elementsEqual(target(part).utf8) || (identity(rows) != nil && identity(rows) == identity(part)) {
            throw Diagnostic("--rows and --part are both \(rows): each output needs a path of its own; nothing written")
        }
        try checkReplaceable(rows, option: "--rows", kind: .rows)
        try checkReplaceable(part, option: "--part", kind: .part)
    }

    /// A path that does not exist, an empty regular file, or a file of `kind` the tool wrote.
    static func checkReplaceable(_ path: String, option: String, kind: Kind) throws(Diagnostic) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw Diagnostic("\(option) \(path): \(FileSystem.lastError)")
        }
        let stranger = "\(option) \(path) exists and is not a \(kind == .rows ? "rows file" : "summary part") balance-report wrote; it replaces only its own files: give a new path"
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFLNK: throw Diagnostic("\(option) \(path) is a symbolic link; give the file itself or a new path")
        default: throw Diagnostic(stranger)
        }
        if info.st_size == 0 { return }
        guard let bytes = FileSystem.readSmallFile(path, limit: kind == .part ? 256 << 20 : 1 << 16, prefixOnly: kind == .rows),
              isOwn(bytes, kind: kind) else { throw Diagnostic(stranger) }
    }

    /// Whether `bytes` (a part whole, or the start of a rows file) is what split-export writes.
    static func isOwn(_ bytes: [UInt8], kind: Kind) -> Bool {
        switch kind {
        case .part:
            guard let part = try? JSONDecoder().decode(SummaryPart.self, from: Data(bytes)) else { return false }
            return part.role == "input"
        case .rows:
            // kind TAB seq TAB hex TAB hex TAB base64 LF: the first line, whole.
            guard let end = bytes.firstIndex(of: 0x0A) else { return false }
            let fields = bytes[..<end].split(separator: 0x09, omittingEmptySubsequences: false)
            guard fields.count == 5, let name = String(validating: fields[0], as: UTF8.self),
                  RecordKind(rawValue: name) != nil, !fields[1].isEmpty, fields[1].allSatisfy({ (0x30...0x39).contains($0) }) else { return false }
            let hex: (ArraySlice<UInt8>) -> Bool = { $0.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) } }
            return hex(fields[2]) && hex(fields[3]) && !fields[4].isEmpty
        }
    }

    /// Writes `bytes` to a fresh file beside `path`, then renames it over `path` (checked by `check`).
    public static func write(_ bytes: [UInt8], to path: String) throws(Diagnostic) {
        let folder = FileSystem.parent(of: path)
        var template = Array(((folder == "/" ? "" : folder) + "/.balance-report-split-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw Diagnostic("cannot write \(path): \(FileSystem.lastError)") }
        let temporary = String(cString: template)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                let why = FileSystem.lastError
                close(fd); unlink(temporary)
                throw Diagnostic("cannot write \(path): \(why)")
            }
            offset += written
        }
        _ = fchmod(fd, 0o666 & ~FileSystem.umaskBits)
        close(fd)
        guard rename(temporary, path) == 0 else {
            let why = FileSystem.lastError
            unlink(temporary)
            throw Diagnostic("cannot write \(path): \(why)")
        }
    }

    /// Where `path` is or would be: its folder's links resolved, its own name kept.
    static func target(_ path: String) -> String {
        if let resolved = FileSystem.resolved(path) { return resolved }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return FileSystem.joined(FileSystem.resolved(FileSystem.parent(of: path)) ?? FileSystem.parent(of: path), name)
    }

    static func identity(_ path: String) -> [UInt64]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino)]
    }
}
