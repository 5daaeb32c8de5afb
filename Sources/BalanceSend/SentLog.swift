import BalanceOutput
import BalanceRender
import BalanceModel
import BalanceSupport
import Glibc

/// The sent log, `DIR/.balance-report-sent.log`: what `send` did with each partner's message,
/// kept in the output folder it belongs to (`render` carries it over when it replaces the
/// folder, and never deletes it).
///
/// A plain append-only text file, one line per step, each line written with one `write(2)` and
/// `fsync`ed before the step it records goes on (SQLite through GRDB was the alternative: it
/// would bring a C library build for what is a few hundred lines a month, and a log that a
/// person can read with `cat`, `grep` and `tail` is worth more to finance than queries):
///
///     start P <Message-ID> <sha256>            before sendmail is started for partner folder P
///     sent P <Message-ID> <sha256>             sendmail accepted it (exit status 0)
///     failed P <Message-ID> <sha256> REASON    sendmail refused it (its words), nothing delivered
///
/// `<sha256>` is the SHA-256 of the exact bytes of `P/report.eml` that were sent. A `start` with
/// no `sent` or `failed` after it means the run died (or sendmail was killed) while the message
/// was in flight: whether it arrived is unknown, and it is never sent again without `--resend P`.
/// A line cut short by a crash is never a complete line, and is reported and ignored.
public enum SentLog {
    public static let fileName = OutputFolder.sentLogName

    public enum Step: String, Sendable, Equatable {
        case start, sent, failed
    }

    public struct Record: Sendable, Equatable {
        public var step: Step
        /// The partner's folder name in the output.
        public var partner: String
        public var messageID: String
        public var sha256: String
        /// With `failed`: why, on one line.
        public var reason: String?

        public init(_ step: Step, partner: String, messageID: String, sha256: String, reason: String? = nil) {
            self.step = step
            self.partner = partner
            self.messageID = messageID
            self.sha256 = sha256
            self.reason = reason
        }
    }

    /// A line of the log that is not a record.
    public struct Problem: Sendable, Equatable {
        public var line: Int
        public var text: String
    }

    /// The line for `record`, ending in LF. The reason is made one line of printable text.
    public static func line(_ record: Record) -> String {
        var text = "\(record.step.rawValue) \(record.partner) \(record.messageID) \(record.sha256)"
        if record.step == .failed { text += " " + oneLine(record.reason ?? "", limit: 600) }
        return text + "\n"
    }

    /// The records of a log's bytes, in order, and the lines that are not records. Only lines
    /// ended by LF count: a last line without one was cut short by a crash and is a problem.
    public static func parse(_ bytes: [UInt8]) -> (records: [Record], problems: [Problem]) {
        var records: [Record] = []
        var problems: [Problem] = []
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            lineNumber += 1
            guard let end = bytes[start...].firstIndex(of: 0x0A) else {
                problems.append(Problem(line: lineNumber, text: "cut short (no end of line): " + String(decoding: bytes[start...], as: UTF8.self)))
                break
            }
            let text = String(decoding: bytes[start..<end], as: UTF8.self)
            start = end + 1
            if text.isEmpty { continue }
            if let record = record(text) { records.append(record) } else {
                problems.append(Problem(line: lineNumber, text: text))
            }
        }
        return (records, problems)
    }

    /// A complete, well-formed line as a record, else `nil`.
    static func record(_ text: String) -> Record? {
        let fields = text.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 4, let step = Step(rawValue: fields[0]), isPartnerName(fields[1]),
              OutgoingMessage.isMessageID(fields[2]), isSHA256(fields[3]) else { return nil }
        switch step {
        case .start, .sent:
            guard fields.count == 4 else { return nil }
            return Record(step, partner: fields[1], messageID: fields[2], sha256: fields[3])
        case .failed:
            guard fields.count == 5, !fields[4].isEmpty else { return nil }
            return Record(step, partner: fields[1], messageID: fields[2], sha256: fields[3], reason: fields[4])
        }
    }

    /// A partner folder name that can stand as one field of a line: printable ASCII, no spaces
    /// (`FileNames.safeName` gives only such names).
    public static func isPartnerName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// Control characters as spaces, runs of spaces as one, at most `limit` bytes (whole characters).
    public static func oneLine(_ text: String, limit: Int) -> String {
        var out = ""
        var lastSpace = true
        for scalar in text.unicodeScalars {
            let space = scalar.value < 0x20 || scalar.value == 0x7F || scalar == " " || (scalar.value >= 0x80 && scalar.value < 0xA0)
                || scalar == "\u{2028}" || scalar == "\u{2029}"
            if space {
                if !lastSpace { out.append(" ") }
                lastSpace = true
                continue
            }
            if out.utf8.count + String(scalar).utf8.count > limit { break }
            out.unicodeScalars.append(scalar)
            lastSpace = false
        }
        while out.hasSuffix(" ") { out.removeLast() }
        return out.isEmpty ? "-" : out
    }

    /// The period a `Message-ID` made by `render --eml` names (`20240301-20240331`), which with the
    /// partner says which report a message is; `nil` for an id of another form.
    public static func reportKey(_ messageID: String) -> String? {
        let bytes = Array(messageID.utf8)
        guard bytes.count > 19, bytes[0] == UInt8(ascii: "<"), bytes[9] == UInt8(ascii: "-"), bytes[18] == UInt8(ascii: ".") else { return nil }
        let digits = bytes[1..<9] + bytes[10..<18]
        guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return String(decoding: bytes[1..<18], as: UTF8.self)
    }
}

/// The sent log on disk, open for appending under an exclusive `flock` for as long as this
/// object lives: a second `send` on the same folder is refused rather than sending beside it.
/// The lock goes with the process, so a killed run never leaves the folder locked.
public final class SentLogFile {
    public let path: String
    public private(set) var records: [SentLog.Record]
    public let problems: [SentLog.Problem]
    private let fd: Int32

    /// Opens (creating it when absent) and locks `folder/.balance-report-sent.log`, and reads it.
    public init(folder: String) throws(Diagnostic) {
        path = folder + "/" + SentLog.fileName
        var created = false
        var fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 && errno == ENOENT {
            fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
            created = fd >= 0
        }
        guard fd >= 0 else { throw Diagnostic("cannot open the sent log \(path): \(FileSystem.lastError)") }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw Diagnostic("the sent log \(path) is not a regular file")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            close(fd)
            throw Diagnostic(busy ? "another `balance-report send` is running on \(folder) (its sent log is locked); wait for it to end"
                                 : "cannot lock the sent log \(path): \(FileSystem.lastError)")
        }
        self.fd = fd
        let bytes: [UInt8]
        do { bytes = try SentLogFile.readAll(fd) } catch {
            close(fd)
            throw error
        }
        (records, problems) = SentLog.parse(bytes)
        if created {
            // The file's name must last as long as what will be written into it.
            let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if folderFD >= 0 { _ = fsync(folderFD); close(folderFD) }
        }
        if let last = bytes.last, last != 0x0A {
            // A line cut short by a crash: end it, so the next record starts on a line of its own.
            do { try append(bytes: [0x0A]) } catch {
                close(fd)
                throw error
            }
        }
    }

    deinit { close(fd) }

    /// Appends one record and waits until it is on disk.
    public func append(_ record: SentLog.Record) throws(Diagnostic) {
        try append(bytes: Array(SentLog.line(record).utf8))
        records.append(record)
    }

    private func append(bytes: [UInt8]) throws(Diagnostic) {
        var offset = 0
        while offset < bytes.count {
            let done = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if done < 0 && errno == EINTR { continue }
            guard done > 0 else { throw Diagnostic("cannot write the sent log \(path): \(FileSystem.lastError)") }
            offset += done
        }
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw Diagnostic("cannot sync the sent log \(path) to disk: \(FileSystem.lastError)")
        }
    }

    /// Whether `path` still names the file this object has open (a folder replaced by `render`
    /// while sending would hold another log).
    public var isStillInPlace: Bool {
        var opened = stat(), named = stat()
        return fstat(fd, &opened) == 0 && lstat(path, &named) == 0 && opened.st_dev == named.st_dev && opened.st_ino == named.st_ino
    }

    /// The log's bytes as they are on disk, without taking the lock: what `--dry-run` reads.
    public static func read(folder: String) throws(Diagnostic) -> (records: [SentLog.Record], problems: [SentLog.Problem]) {
        let path = folder + "/" + SentLog.fileName
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 && errno == ENOENT { return ([], []) }
        guard fd >= 0 else { throw Diagnostic("cannot open the sent log \(path): \(FileSystem.lastError)") }
        defer { close(fd) }
        return SentLog.parse(try readAll(fd))
    }

    static func readAll(_ fd: Int32) throws(Diagnostic) -> [UInt8] {
        guard let bytes = FileSystem.readAll(descriptor: fd) else { throw Diagnostic("cannot read the sent log: \(FileSystem.lastError)") }
        return bytes
    }
}
