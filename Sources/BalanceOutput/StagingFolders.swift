import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
import Glibc

/// Staging folders that runs killed with SIGKILL (or by a power cut) leave beside `--out`.
///
/// They never break a later run (each run makes its own with `mkdtemp`), but they hold whole
/// reports, so the next run removes them. A live run holds an exclusive `flock` on its staging
/// folder for as long as it lives; the kernel drops the lock when the process dies, however it
/// dies. A run makes its folder as `.balance-report-new-*`, locks it, and only then renames it to
/// `.balance-report-staging-*`: a staging folder whose lock can be taken is abandoned whatever its
/// age, so the run right after a killed one removes it. A `.balance-report-new-*` folder (a run
/// killed between `mkdtemp` and the rename) is empty; it is removed once unlocked and older than
/// `abandonedAfterSeconds`. After a publish the staging path holds the previous output, unlocked:
/// a run killed before it deleted that is cleaned up the same way, deleting only what its
/// marker lists. SIGTERM and SIGINT do not leave one: `LiveStaging` removes the run's own first.
extension ReportWriter {
    static let stagingPrefix = ".balance-report-staging-"
    static let newPrefix = ".balance-report-new-"
    static let abandonedAfterSeconds = 5

    /// Opens `path` and takes an exclusive lock on it; -1 when that is not possible (the run
    /// then goes on without one: its folder is young while it works and is merely not cleaned up
    /// by others after a crash).
    static func lockFolder(_ path: String) -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return -1 }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            return -1
        }
        return fd
    }

    /// Removes the abandoned staging folders in `parent`; returns their names.
    @discardableResult
    static func removeAbandonedStaging(in parent: String, now: Int = time(nil)) -> [String] {
        let entries = FileSystem.entries(of: parent) ?? []
        var removed: [String] = []
        // A run killed between mkdtemp and the rename leaves an empty, unlocked folder.
        for name in entries.sorted() where name.hasPrefix(newPrefix) {
            let path = FileSystem.joined(parent, name)
            var status = stat()
            guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR,
                  now - Int(status.st_mtim.tv_sec) >= abandonedAfterSeconds else { continue }
            let fd = lockFolder(path)
            guard fd >= 0 else { continue }
            if rmdir(path) == 0 { removed.append(name) }
            close(fd)
        }
        for name in entries.filter({ $0.hasPrefix(stagingPrefix) }).sorted() {
            let path = (parent == "/" ? "" : parent) + "/" + name
            var status = stat()
            guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR else { continue }
            let fd = lockFolder(path)
            guard fd >= 0 else { continue }
            // A run's own staging folder holds only what it wrote; the previous output that a
            // publish swapped there holds what its marker lists, and only that is deleted.
            // One that still holds something else keeps it, and its marker, for good.
            var gone = true
            if let marker = OutputFolder.Marker.read(folder: path) {
                gone = removeListed(path, marker: marker, workers: 1)
            } else {
                removeTree(path)
            }
            close(fd)
            if gone { removed.append(name) }
        }
        return removed
    }
}
