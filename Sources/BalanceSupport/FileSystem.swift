import Glibc

/// The few file-system questions the output side asks, without following symbolic links
/// unless a function says it does.
package enum FileSystem {
    /// The names in a folder, `.` and `..` left out; `nil` when it cannot be opened.
    package static func entries(of path: String) -> [String]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    package enum Kind { case missing, folder, file, symlink, other }

    /// What is at `path` itself (a symbolic link is reported as one, not followed).
    package static func kind(of path: String) -> Kind {
        var status = stat()
        guard lstat(path, &status) == 0 else { return .missing }
        switch status.st_mode & S_IFMT {
        case S_IFDIR: return .folder
        case S_IFREG: return .file
        case S_IFLNK: return .symlink
        default: return .other
        }
    }

    /// The absolute path with every link resolved (`realpath(3)`), or `nil` when it does not exist.
    package static func resolved(_ path: String) -> String? {
        guard let raw = realpath(path, nil) else { return nil }
        defer { free(raw) }
        return String(cString: raw)
    }

    package static func joined(_ folder: String, _ name: String) -> String {
        folder == "/" ? "/" + name : folder + "/" + name
    }

    package static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `strerror(errno)`, as text.
    package static var lastError: String { errorText(errno) }

    /// `strerror(code)`, as text.
    package static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Every byte of an open file, read with `pread` from the start (retrying on `EINTR`);
    /// `nil` on a read error, with `errno` set.
    package static func readAll(descriptor fd: Int32) -> [UInt8]? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, offset) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return bytes }
            bytes.append(contentsOf: buffer[..<count])
            offset += off_t(count)
        }
    }

    /// Every byte of the regular file at `path` (a symbolic link is not followed).
    package static func readAll(_ path: String) throws(Diagnostic) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw Diagnostic("cannot read \(path): \(lastError)") }
        defer { close(fd) }
        guard let bytes = readAll(descriptor: fd) else { throw Diagnostic("cannot read \(path): \(lastError)") }
        return bytes
    }

    /// Why `readRegularFile` read nothing.
    package enum RegularFileProblem: Error, Sendable {
        case cannotOpen(String)
        /// A symbolic link, with `followLinks` off.
        case symbolicLink
        /// A FIFO, a device or a folder: never read until it ends.
        case notRegular
        case tooLarge
        case cannotRead(String)
    }

    /// The whole of a regular file of at most `limit` bytes. Opened without blocking (a FIFO nobody
    /// writes to is refused, not waited on) and, unless `followLinks`, never through a link.
    package static func readRegularFile(_ path: String, limit: Int, followLinks: Bool) throws(RegularFileProblem) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followLinks ? 0 : O_NOFOLLOW))
        guard fd >= 0 else {
            if errno == ELOOP && !followLinks { throw .symbolicLink }
            throw .cannotOpen(lastError)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotRead(lastError) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .notRegular }
        guard Int(info.st_size) <= limit else { throw .tooLarge }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let got = read(fd, &chunk, chunk.count)
            if got < 0 {
                if errno == EINTR { continue }
                throw .cannotRead(lastError)
            }
            if got == 0 { return bytes }
            bytes.append(contentsOf: chunk[..<got])
            if bytes.count > limit { throw .tooLarge }
        }
    }

    /// A small file's bytes, or `nil` when it cannot be read or is over `limit` bytes (with
    /// `prefixOnly`, its first `limit` bytes). A symbolic link is not followed.
    package static func readSmallFile(_ path: String, limit: Int, prefixOnly: Bool = false) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 { if errno == EINTR { continue }; return nil }
            if got == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<got])
            if bytes.count > limit { return prefixOnly ? Array(bytes.prefix(limit)) : nil }
        }
    }

    /// The process's umask, read without changing it for longer than the call.
    package static var umaskBits: mode_t {
        let mask = umask(0o022)
        umask(mask)
        return mask
    }
}

