import Glibc

/// The few file-system questions the output side asks, without following symbolic links
/// unless a function says it does.
enum FileSystem {
    /// The names in a folder, `.` and `..` left out; `nil` when it cannot be opened.
    static func entries(of path: String) -> [String]? {
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

    enum Kind { case missing, folder, file, symlink, other }

    /// What is at `path` itself (a symbolic link is reported as one, not followed).
    static func kind(of path: String) -> Kind {
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
    static func resolved(_ path: String) -> String? {
        guard let raw = realpath(path, nil) else { return nil }
        defer { free(raw) }
        return String(cString: raw)
    }

    static func joined(_ folder: String, _ name: String) -> String {
        folder == "/" ? "/" + name : folder + "/" + name
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `strerror(errno)`, as text.
    static var lastError: String { String(cString: strerror(errno)) }

    /// The process's umask, read without changing it for longer than the call.
    static var umaskBits: mode_t {
        let mask = umask(0o022)
        umask(mask)
        return mask
    }
}
