internal import CSystemShims
import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
import Dispatch
import Glibc
import Synchronization

/// Writes a run's files into a fresh staging folder beside `--out` and publishes them in one
/// step: a rename, or an atomic exchange with the previous output. A run that fails or is killed
/// leaves the previous output as it was, never a mix.
public final class ReportWriter: Sendable {
    public let destination: String
    public let staging: String
    /// An exclusive `flock` on the staging folder while this run lives (see `StagingFolders.swift`).
    private let stagingLock: Int32
    private struct State {
        var published = false
        var createdFolders = Set<ByteKey>()
        /// Relative paths of the files written, for the output's marker.
        var written: [String] = []
        /// The SHA-256 of each file's bytes, for the marker (`send` and `merge-parts` check them).
        var digests: [ByteKey: String] = [:]
    }
    /// `write` may be called from several threads at once.
    private let state = Mutex(State())

    /// Number of files written so far.
    public var writtenFiles: Int { state.withLock { $0.written.count } }

    /// Whether the marker records the SHA-256 of every file (a part of a run that `merge-parts`
    /// checks file by file), or only of the messages `send` delivers: hashing every page of a
    /// million-row run took a third of its time.
    let digestsEveryFile: Bool

    public init(destination: String, digestsEveryFile: Bool = false) throws(Diagnostic) {
        self.digestsEveryFile = digestsEveryFile
        var trimmed = destination
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard !trimmed.isEmpty else { throw Diagnostic("--out is empty") }
        self.destination = trimmed
        let parent = FileSystem.parent(of: trimmed)
        guard FileSystem.resolved(parent).map({ FileSystem.kind(of: $0) == .folder }) == true else {
            throw Diagnostic("the folder \(parent) that would hold \(trimmed) does not exist")
        }
        ReportWriter.removeAbandonedStaging(in: parent)
        // Made under a name of its own, locked, and only then given the staging name: a staging
        // folder that no run holds locked is abandoned, however young (see `StagingFolders.swift`).
        var template = Array((parent == "/" ? "" : parent) .utf8CString.dropLast()) + Array("/\(ReportWriter.newPrefix)XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw Diagnostic("cannot create a staging folder in \(parent): \(FileSystem.lastError)")
        }
        let fresh = String(cString: made)
        // mkdtemp makes the folder 0700; the published output gets the umask's permissions, as
        // any folder the user makes would.
        _ = chmod(fresh, 0o777 & ~FileSystem.umaskBits)
        stagingLock = ReportWriter.lockFolder(fresh)
        let named = FileSystem.joined(parent, ReportWriter.stagingPrefix + String(fresh.utf8.count >= 6 ? String(fresh.suffix(6)) : fresh))
        if stagingLock >= 0, rename(fresh, named) == 0 {
            staging = named
        } else {
            staging = fresh
        }
        // SIGTERM and SIGINT remove it before the process ends (`LiveStaging`).
        LiveStaging.add(staging)
    }

    deinit {
        if !state.withLock({ $0.published }) { ReportWriter.removeTree(staging) }
        LiveStaging.remove(staging)
        if stagingLock >= 0 { close(stagingLock) }
    }

    /// Writes one file; `relativePath` is built from safe names only ("a/b/c.csv").
    public func write(_ relativePath: String, _ bytes: [UInt8]) throws(Diagnostic) {
        try writeFile(try prepare(relativePath), bytes, shownAs: relativePath)
        let digest = digestsEveryFile || relativePath.hasSuffix(".eml") ? SHA256.hex(bytes) : nil
        state.withLock {
            $0.written.append(relativePath)
            if let digest { $0.digests[ByteKey(relativePath)] = digest }
        }
    }

    /// Takes a finished file of another output on the same file system (a part of a run rendered
    /// per partner, `MergedOutput`) as `relativePath`: hard-linked into the staging folder, the
    /// same bytes without copying them; copied where a link cannot be made (another file system).
    /// `digest` is the SHA-256 the source's bytes must have (checked by the caller).
    public func adopt(_ relativePath: String, from source: String, digest: String) throws(Diagnostic) {
        let target = try prepare(relativePath)
        guard FileSystem.kind(of: source) == .file else { throw Diagnostic("\(source) is not a regular file") }
        if link(source, target) == 0 {
            let recorded = digestsEveryFile || relativePath.hasSuffix(".eml")
            state.withLock {
                $0.written.append(relativePath)
                if recorded { $0.digests[ByteKey(relativePath)] = digest }
            }
            return
        }
        if errno == EEXIST { throw Diagnostic("two reports would share the file \(relativePath)") }
        try write(relativePath, try FileSystem.readAll(source))
    }

    /// Checks a relative path and makes the folders it needs in the staging folder; returns the
    /// file's path there.
    private func prepare(_ relativePath: String) throws(Diagnostic) -> String {
        let components = relativePath.split(separator: "/", omittingEmptySubsequences: false)
        guard !components.isEmpty, components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("\0") && !$0.contains("\n") }),
              relativePath != OutputFolder.markerName, relativePath != OutputFolder.sentLogName else {
            throw Diagnostic("refusing to write the unsafe path \(relativePath)")
        }
        var folder = staging
        for component in components.dropLast() {
            folder += "/" + component
            let path = folder
            try state.withLock { (state) throws(Diagnostic) in
                guard !state.createdFolders.contains(ByteKey(path)) else { return }
                if mkdir(path, 0o777) != 0 && errno != EEXIST {
                    throw Diagnostic("cannot create \(path): \(FileSystem.lastError)")
                }
                state.createdFolders.insert(ByteKey(path))
            }
        }
        return staging + "/" + relativePath
    }

    /// Makes the staged output the destination's content in one atomic step. The marker, which
    /// lists every file written, goes in last; `period` is recorded in it. An earlier output is
    /// checked again (it may have changed while the inputs were read), its sent log carried over,
    /// and after the swap only the files it lists are deleted.
    public func publish(period: ReportPeriod? = nil) throws(Diagnostic) {
        let (files, digests) = state.withLock { ($0.written, $0.digests) }
        let marker = OutputFolder.Marker(firstDay: period?.firstDay, lastDay: period?.lastDay, files: files, digests: digests)
        try writeFile(FileSystem.joined(staging, OutputFolder.markerName), marker.bytes, shownAs: OutputFolder.markerName)
        switch FileSystem.kind(of: destination) {
        case .missing:
            guard rename(staging, destination) == 0 else {
                throw Diagnostic("cannot create \(destination): \(FileSystem.lastError)")
            }
            state.withLock { $0.published = true }
            LiveStaging.remove(staging)
            releaseStagingLock()
        case .folder:
            // Not while `send` delivers from this output: held until the swap (see `OutputLock`).
            let lock: OutputLock
            do { lock = try OutputLock(destination) } catch {
                switch error {
                case .busy: throw Diagnostic("\(destination) is in use by another balance-report run (`send` delivering from it, or a render); render again when it has finished")
                case .failed(let why): throw Diagnostic(why)
                }
            }
            defer { withExtendedLifetime(lock) {} }
            try OutputFolder.checkReplaceable(destination)
            let previous = OutputFolder.Marker.read(folder: destination)
            let sentLog = FileSystem.joined(destination, OutputFolder.sentLogName)
            if previous != nil, FileSystem.kind(of: sentLog) == .file {
                guard let log = FileSystem.readSmallFile(sentLog, limit: 256 << 20) else {
                    throw Diagnostic("cannot read \(sentLog) to keep it: \(FileSystem.lastError)")
                }
                let kept = FileSystem.joined(staging, OutputFolder.sentLogName)
                try writeFile(kept, log, shownAs: OutputFolder.sentLogName)
                // On disk before the old one goes: a lost log would send every message again.
                let fd = open(kept, O_RDONLY | O_CLOEXEC)
                guard fd >= 0, fsync(fd) == 0 else {
                    if fd >= 0 { close(fd) }
                    throw Diagnostic("cannot sync \(OutputFolder.sentLogName) to disk: \(FileSystem.lastError)")
                }
                close(fd)
            }
            guard br_exchange_paths(staging, destination) == 0 else {
                throw Diagnostic("cannot replace \(destination): \(FileSystem.lastError)")
            }
            state.withLock { $0.published = true }
            LiveStaging.remove(staging)
            releaseStagingLock()
            // The staging path now holds the previous output: an empty folder, or what its marker lists.
            if let previous {
                ReportWriter.removeListed(staging, marker: previous, workers: processorCount)
            } else {
                rmdir(staging)
            }
        default:
            throw Diagnostic("\(destination) exists and is not a folder")
        }
    }

    /// The staging lock's folder is now the published output: no longer this run's to guard, and
    /// `OutputLock` (a `send`, the next render) must be able to take the folder's lock.
    private func releaseStagingLock() {
        if stagingLock >= 0 { flock(stagingLock, LOCK_UN) }
    }

    /// Creates a new file (never through a link, never over one that exists) and writes it whole.
    private func writeFile(_ path: String, _ bytes: [UInt8], shownAs name: String) throws(Diagnostic) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
        guard fd >= 0 else {
            if errno == EEXIST { throw Diagnostic("two reports would share the file \(name)") }
            throw Diagnostic("cannot create \(name): \(FileSystem.lastError)")
        }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw Diagnostic("cannot write \(name): \(FileSystem.lastError)")
            }
            offset += written
        }
    }

    /// Deletes an earlier output's listed files on `workers` threads, then what
    /// `OutputFolder.removeOutput` removes; anything it does not list stays. Returns whether
    /// the folder is gone.
    @discardableResult
    static func removeListed(_ path: String, marker: OutputFolder.Marker, workers: Int) -> Bool {
        let files = marker.files
        let lanes = max(1, min(workers, files.count))
        DispatchQueue.concurrentPerform(iterations: lanes) { lane in
            for index in stride(from: lane, to: files.count, by: lanes) { unlink(FileSystem.joined(path, files[index])) }
        }
        return OutputFolder.removeOutput(path, marker: marker)
    }

    /// Deletes a folder tree without following symbolic links: its files on `workers` threads,
    /// then its folders, deepest first.
    static func removeTree(_ path: String, workers: Int = 1) {
        var files: [String] = []
        var folders: [String] = []
        func walk(_ path: String) {
            var status = stat()
            guard lstat(path, &status) == 0 else { return }
            guard (status.st_mode & S_IFMT) == S_IFDIR else { files.append(path); return }
            for name in FileSystem.entries(of: path) ?? [] { walk(path + "/" + name) }
            folders.append(path)
        }
        walk(path)
        let lanes = max(1, min(workers, files.count))
        DispatchQueue.concurrentPerform(iterations: lanes) { [files] lane in
            for index in stride(from: lane, to: files.count, by: lanes) { unlink(files[index]) }
        }
        for folder in folders { rmdir(folder) }
    }
}
