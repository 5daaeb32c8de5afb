import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
import Glibc

/// An exclusive `flock` on an output folder itself (its directory), taken without waiting:
/// `send` holds it for its whole run, and `render` from checking an earlier output until it has
/// swapped the new one in. So a render never replaces a folder while its messages are being sent
/// (the sent log it carries over would miss the records written after it was copied, and those
/// messages would be sent again), and two sends never work on one folder. The lock goes with the
/// process: a killed run leaves nothing locked.
public final class OutputLock: Sendable {
    public let path: String
    private let fd: Int32

    public enum Failure: Error, Equatable {
        /// Another process holds it.
        case busy
        case failed(String)
    }

    /// Locks the folder at `path`, and checks that `path` still names the folder locked (it may
    /// have been swapped for a new output in between).
    public init(_ path: String) throws(Failure) {
        self.path = path
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .failed("cannot open \(path): \(FileSystem.lastError)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let why = FileSystem.lastError
            close(fd)
            throw busy ? .busy : .failed("cannot lock \(path): \(why)")
        }
        var locked = stat(), named = stat()
        guard fstat(fd, &locked) == 0, stat(path, &named) == 0, locked.st_dev == named.st_dev, locked.st_ino == named.st_ino else {
            close(fd)
            throw .busy
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
