import BalanceOutput
import BalanceRender
import BalanceModel
import BalanceSupport
import Glibc

/// A finished `render` output folder, as `send` sees it: complete (its marker file is there and
/// says so) and listing the `P/report.eml` files that render wrote. Nothing is sent from a
/// folder without the marker: a folder half-written by hand or by a killed run is not a render.
public struct RenderedOutput: Sendable {
    /// Written last into every finished output folder by `render` (see `OutputFolder`).
    public static let markerName = OutputFolder.markerName
    /// The marker's first line; a later format would change the number.
    public static let markerFirstLine = OutputFolder.markerHeader

    public let folder: String
    /// `YYYY-MM-DD YYYY-MM-DD` from the marker's `period` line, when there is one.
    public let period: String?
    /// The folder names of the partners whose `report.eml` the marker lists, byte-sorted.
    public let partners: [String]
    /// Listed `…/report.eml` paths that are not one partner folder deep or whose folder name
    /// could not be logged; they are reported and never sent.
    public let strayMessages: [String]
    /// The SHA-256 render recorded for each file, by path: only these bytes are sent.
    private let digests: [ByteKey: String]
    private let markerDevice: UInt64
    private let markerInode: UInt64
    /// With `locking`: held as long as this value lives.
    private let lock: OutputLock?


    /// Reads and checks the marker of `folder`; with `locking`, first takes the folder's
    /// `OutputLock`, so that no render replaces it and no other send works on it meanwhile.
    public init(folder: String, locking: Bool = false) throws(Diagnostic) {
        var trimmed = folder
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.folder = trimmed
        var info = stat()
        guard stat(trimmed, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw Diagnostic("\(trimmed) is not a folder")
        }
        if locking {
            do { lock = try OutputLock(trimmed) } catch {
                switch error {
                case .busy: throw Diagnostic("another `balance-report send`, or a render replacing it, is working on \(trimmed); wait for it to end")
                case .failed(let why): throw Diagnostic(why)
                }
            }
        } else {
            lock = nil
        }
        let path = trimmed + "/" + RenderedOutput.markerName
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            if errno == ENOENT {
                throw Diagnostic("\(trimmed) is not a finished render output (it has no \(RenderedOutput.markerName)): nothing is sent from it")
            }
            throw Diagnostic("cannot read \(path): \(FileSystem.lastError)")
        }
        defer { close(fd) }
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw Diagnostic("\(path) is not a regular file") }
        markerDevice = UInt64(info.st_dev)
        markerInode = UInt64(info.st_ino)
        let parsed = try RenderedOutput.parseMarker(try SentLogFile.readAll(fd), path: path)
        period = parsed.period
        digests = parsed.digests
        var partners: [String] = []
        var stray: [String] = []
        for file in parsed.files where file == OutputFiles.message || file.hasSuffix("/" + OutputFiles.message) {
            let components = file.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if components.count == 2, components[0] != ".", components[0] != "..", SentLog.isPartnerName(components[0]) {
                partners.append(components[0])
            } else {
                stray.append(file)
            }
        }
        self.partners = Array(Set(partners)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        strayMessages = stray
    }

    /// The marker's period line and file list; an error unless its first line is exactly
    /// `markerFirstLine` and the rest is what `OutputFolder.Marker` reads.
    public static func parseMarker(_ bytes: [UInt8], path: String = markerName) throws(Diagnostic) -> (period: String?, files: [String], digests: [ByteKey: String]) {
        let first = bytes.split(separator: 0x0A, maxSplits: 1, omittingEmptySubsequences: false).first.map { String(decoding: $0, as: UTF8.self) }
        guard first == markerFirstLine else {
            throw Diagnostic("\(path) does not start with '\(markerFirstLine)': not an output this version of balance-report made; nothing is sent")
        }
        guard let marker = OutputFolder.Marker.parse(bytes) else {
            throw Diagnostic("\(path) is damaged (not a list of the files render wrote); nothing is sent")
        }
        let period = marker.firstDay.flatMap { first in marker.lastDay.map { "\(first) \($0)" } }
        return (period, marker.files, marker.digests)
    }

    /// `P/report.eml` read whole: a regular file, reached without following a symbolic link.
    public func message(_ partner: String) throws(Diagnostic) -> OutgoingMessage {
        let shown = "\(partner)/\(OutputFiles.message)"
        let root = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw Diagnostic("cannot open \(folder): \(FileSystem.lastError)") }
        defer { close(root) }
        let partnerFolder = openat(root, partner, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard partnerFolder >= 0 else { throw Diagnostic("cannot open \(partner)/ (\(FileSystem.lastError))") }
        defer { close(partnerFolder) }
        let fd = openat(partnerFolder, OutputFiles.message, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw Diagnostic("cannot open \(shown) (\(FileSystem.lastError))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw Diagnostic("\(shown) is not a regular file") }
        let message = OutgoingMessage(bytes: try SentLogFile.readAll(fd))
        // Only the bytes render wrote: a message edited since (a `Bcc:` added) is not sent.
        guard let digest = digests[ByteKey(shown)] else {
            throw Diagnostic("\(shown): the output's marker records no SHA-256 of it (an output of an older balance-report): render it again; not sent")
        }
        guard message.sha256 == digest else {
            throw Diagnostic("\(shown) was changed after render (its SHA-256 \(message.sha256.prefix(12))… is not the \(digest.prefix(12))… render wrote): not sent; render it again")
        }
        return message
    }

    /// Whether the folder still holds the marker read at the start: `render` replacing the
    /// folder while `send` runs puts a new marker there.
    public var isStillInPlace: Bool {
        var info = stat()
        return lstat(folder + "/" + RenderedOutput.markerName, &info) == 0
            && UInt64(info.st_dev) == markerDevice && UInt64(info.st_ino) == markerInode
    }
}
