import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
import Glibc

/// `--out` is the tool's own folder (SPEC §4): it replaces only a folder it made itself or an
/// empty one, never one holding anything else, an input, the working folder, the home folder or
/// `/`, and when it replaces an earlier output it deletes only the files that output lists.
///
/// Every finished output holds a marker, `.balance-report-output`, written last and published with
/// the rest, so its presence means a complete render:
///
///     balance-report output 1
///     period 2024-03-01 2024-03-31
///     alfa-cloud/index.html 9f86d081…   (every file the run wrote, byte order, the marker left
///     …                                  out, each with the SHA-256 of the bytes written)
///
/// A file line is the path, a space and the SHA-256 of the file's bytes as written (64 hex digits;
/// paths are the tool's own safe names and hold no space). Markers of earlier versions have no
/// digests: their files are listed, and whatever needs the digest (`send`, `merge-parts`) refuses them.
public enum OutputFolder {
    public static let markerName = ".balance-report-output"
    /// The `send` subcommand's log of delivered messages: kept across re-renders, never deleted.
    public static let sentLogName = ".balance-report-sent.log"
    public static let markerHeader = "balance-report output 1"

    /// What a marker says.
    public struct Marker: Sendable, Equatable {
        public var firstDay: CivilDate?
        public var lastDay: CivilDate?
        /// Relative paths of every file of the output, the marker excepted.
        public var files: [String]
        /// The SHA-256 (hex) of each file's bytes as written, by path.
        public var digests: [ByteKey: String]

        public init(firstDay: CivilDate?, lastDay: CivilDate?, files: [String], digests: [ByteKey: String] = [:]) {
            self.firstDay = firstDay
            self.lastDay = lastDay
            self.files = files
            self.digests = digests
        }

        /// The digest render recorded for `file`, if the marker has one.
        public func digest(of file: String) -> String? { digests[ByteKey(file)] }

        public var bytes: [UInt8] {
            var text = OutputFolder.markerHeader + "\n"
            if let firstDay, let lastDay { text += "period \(firstDay) \(lastDay)\n" }
            for file in files.sorted(by: byteOrder) { text += file + (digests[ByteKey(file)].map { " " + $0 } ?? "") + "\n" }
            return Array(text.utf8)
        }

        static func isDigest<S: Sequence>(_ text: S) -> Bool where S.Element == UInt8 {
            var count = 0
            for byte in text {
                guard (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) else { return false }
                count += 1
            }
            return count == 64
        }

        /// Reads a marker's text; `nil` when it is not one.
        public static func parse(_ bytes: [UInt8]) -> Marker? {
            guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
            var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)[...]
            guard lines.first == OutputFolder.markerHeader else { return nil }
            lines.removeFirst()
            var marker = Marker(firstDay: nil, lastDay: nil, files: [])
            if let period = lines.first, period.hasPrefix("period ") {
                let days = period.split(separator: " ").dropFirst().compactMap { CivilDate.parse(String($0)) }
                guard days.count == 2 else { return nil }
                marker.firstDay = days[0]
                marker.lastDay = days[1]
                lines.removeFirst()
            }
            // Paths are relative and made of the tool's own safe names; a digest follows a space.
            for line in lines {
                var path = Substring(line)
                if let space = line.firstIndex(of: " ") {
                    let digest = line[line.index(after: space)...]
                    guard isDigest(digest.utf8) else { return nil }
                    path = line[..<space]
                    marker.digests[ByteKey(String(path))] = String(digest)
                }
                let parts = path.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else { return nil }
                marker.files.append(String(path))
            }
            return marker
        }

        /// The marker of the output folder at `path`, if it has a readable one.
        public static func read(folder path: String) -> Marker? {
            let file = FileSystem.joined(path, OutputFolder.markerName)
            guard FileSystem.kind(of: file) == .file, let bytes = FileSystem.readSmallFile(file, limit: 64 << 20) else { return nil }
            return parse(bytes)
        }
    }

    /// Refuses an `--out` the tool must not replace, before any input is read.
    public static func check(_ out: String, inputs: [String]) throws(Diagnostic) {
        let target = try absoluteTarget(out)
        var protected: [(path: String, what: String)] = [("/", "the root folder")]
        if let cwd = FileSystem.resolved(".") { protected.append((cwd, "the working folder")) }
        if let home = getenv("HOME").map({ String(cString: $0) }), !home.isEmpty, let resolved = FileSystem.resolved(home) {
            protected.append((resolved, "the home folder"))
        }
        for input in inputs {
            if let resolved = FileSystem.resolved(input) { protected.append((resolved, "the input file \(input)")) }
        }
        for (path, what) in protected where path == target || path.hasPrefix(target == "/" ? "/" : target + "/") {
            let relation = path == target ? "is" : "contains"
            throw Diagnostic("--out \(out) \(relation) \(what); it must be a folder of its own (a new or empty one, or an earlier output of balance-report)")
        }
        try checkReplaceable(out)
    }

    /// A folder may be replaced when it is missing, empty, or an earlier output holding only what it lists.
    static func checkReplaceable(_ out: String) throws(Diagnostic) {
        switch FileSystem.kind(of: out) {
        case .missing: return
        case .folder: break
        case .symlink: throw Diagnostic("--out \(out) is a symbolic link; give the folder itself")
        case .file, .other: throw Diagnostic("--out \(out) exists and is not a folder")
        }
        guard let names = FileSystem.entries(of: out) else {
            throw Diagnostic("--out \(out) cannot be read: \(FileSystem.lastError)")
        }
        if names.isEmpty { return }
        guard let marker = Marker.read(folder: out) else {
            throw Diagnostic("--out \(out) is a folder balance-report did not make (it has no \(markerName)) and is not empty; "
                + "it never replaces such a folder: give a new or empty one")
        }
        let known = Set((marker.files + [markerName, sentLogName]).map { ByteKey($0) })
        if let stranger = firstUnlisted(in: out, relative: "", known: known, folders: folders(holding: marker.files)) {
            throw Diagnostic("--out \(out) holds \(stranger), which balance-report did not write; "
                + "it replaces only what its own output holds: move \(stranger) away or give another folder")
        }
    }

    /// The first entry below `folder` that is neither a listed file nor a folder on the way to one.
    /// A folder on the way to no listed file (an empty one the user made) is the user's too: the
    /// swap would carry it off with the old output.
    static func firstUnlisted(in folder: String, relative: String, known: Set<ByteKey>, folders: Set<ByteKey>) -> String? {
        for name in (FileSystem.entries(of: folder) ?? []).sorted(by: byteOrder) {
            let path = relative.isEmpty ? name : relative + "/" + name
            switch FileSystem.kind(of: FileSystem.joined(folder, name)) {
            case .folder:
                guard folders.contains(ByteKey(path)) else { return path + "/" }
                if let found = firstUnlisted(in: FileSystem.joined(folder, name), relative: path, known: known, folders: folders) { return found }
            case .file:
                if !known.contains(ByteKey(path)) { return path }
            default:
                return path
            }
        }
        return nil
    }

    /// Every folder on the way to one of `files` ("a/b/c.csv" gives "a" and "a/b").
    static func folders(holding files: [String]) -> Set<ByteKey> {
        var folders = Set<ByteKey>()
        for file in files {
            var folder = FileSystem.parent(of: file)
            while folder != "." && folder != "/" && folders.insert(ByteKey(folder)).inserted {
                folder = FileSystem.parent(of: folder)
            }
        }
        return folders
    }

    /// The path `out` will have once it exists, links in its parent resolved.
    static func absoluteTarget(_ out: String) throws(Diagnostic) -> String {
        if FileSystem.kind(of: out) == .folder, let resolved = FileSystem.resolved(out) { return resolved }
        let parent = FileSystem.parent(of: out)
        guard let resolvedParent = FileSystem.resolved(parent), FileSystem.kind(of: resolvedParent) == .folder else {
            throw Diagnostic("the folder \(parent) that would hold \(out) does not exist")
        }
        let name = out.split(separator: "/").last.map(String.init) ?? out
        if name == "." || name == ".." || name.isEmpty, let resolved = FileSystem.resolved(out) { return resolved }
        return FileSystem.joined(resolvedParent, name)
    }

    /// Deletes an earlier output: the files its marker lists, then the folders left empty, then
    /// the marker. Anything else stays where it is, and so does the marker while anything else
    /// is there: a leftover that still holds a stranger (a file written into the old output after
    /// the swap) is cleaned up later by its marker again, never as a whole. Returns whether the
    /// folder is gone.
    @discardableResult
    static func removeOutput(_ path: String, marker: Marker, keepingSentLog: Bool = false) -> Bool {
        for file in marker.files { unlink(FileSystem.joined(path, file)) }
        if !keepingSentLog { unlink(FileSystem.joined(path, sentLogName)) }
        // Deepest first: a folder is removed only once it is empty.
        for folder in folders(holding: marker.files).map(\.text).sorted(by: { $0.utf8.count > $1.utf8.count }) {
            rmdir(FileSystem.joined(path, folder))
        }
        guard (FileSystem.entries(of: path) ?? []).allSatisfy({ $0 == markerName }) else { return false }
        unlink(FileSystem.joined(path, markerName))
        return rmdir(path) == 0
    }
}

