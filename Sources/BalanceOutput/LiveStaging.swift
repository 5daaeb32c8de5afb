import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
import Dispatch
import Glibc
import Synchronization

/// The staging folders of this process's live runs (`ReportWriter`), removed when the process is
/// asked to end: SIGTERM or SIGINT (Ctrl-C) deletes them and ends the process with the signal's
/// code (128 + its number), so a stopped run leaves nothing beside `--out`. SIGKILL cannot be
/// caught: what it leaves is removed by the next run (`removeAbandonedStaging`).
public enum LiveStaging {
    private static let folders = Mutex<[String]>([])
    /// Set once a signal asked the process to end: the handler is removing the staging folders.
    private static let ending = Atomic<Bool>(false)

    /// The signal handlers, set up the first time a staging folder is made (and kept for good).
    nonisolated(unsafe) private static let handlers: [any DispatchSourceSignal] = [SIGTERM, SIGINT].map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { end(number) }
        source.resume()
        return source
    }

    static func add(_ path: String) {
        _ = handlers
        folders.withLock { $0.append(path) }
    }

    static func remove(_ path: String) {
        folders.withLock { $0.removeAll { $0.utf8.elementsEqual(path.utf8) } }
    }

    /// A run whose writing failed calls this before it reports the failure: when the failure is
    /// the signal's doing (its staging folder was just renamed away), the process must end with the
    /// signal's code once the handler has cleaned up, not with a write error of its own first.
    public static func waitIfEnding() {
        guard ending.load(ordering: .acquiring) else { return }
        while true { pause() }
    }

    /// Deletes every live staging folder, then ends the process.
    static func end(_ number: Int32) -> Never {
        ending.store(true, ordering: .releasing)
        let paths = folders.withLock { list -> [String] in
            defer { list.removeAll() }
            return list
        }
        for path in paths {
            // Renamed first: a writer still at work creates nothing more below the old name.
            let doomed = path + "-ended"
            ReportWriter.removeTree(rename(path, doomed) == 0 ? doomed : path)
        }
        _exit(128 + number)
    }
}
