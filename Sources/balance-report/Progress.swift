import BalanceSupport
import BalancePipeline
import BalanceSend
import BalanceOutput
import BalanceRender
import BalanceIngest
import BalanceModel
import BalanceReport
import Foundation
import Glibc
import Synchronization

/// The progress line on stderr: once a run has taken about a second (`BALANCE_REPORT_PROGRESS_AFTER`
/// seconds, for tests), the current stage — `reading transactions.csv 45 MB / 77 MB`, `ledger`,
/// `reports`, `writing 3,200 / 8,010 files` (for `send`: `sending 12 / 200 messages`) — rewritten in place with `\r` and cleared with
/// `\r\e[K` before any other line is printed. Only when stderr is a terminal and the run is not
/// `--quiet` (nor with `TERM=dumb`): logs, pipes and tests never see it.
///
/// Every stderr line of the tool goes through `printLine`, under the same lock as the drawing, so
/// a message never lands in the middle of the progress line. A ticker thread redraws it ten
/// times a second; the rendering threads only bump an atomic counter per file.
final class ProgressLine: Sendable {
    static let shared = ProgressLine()

    enum Stage: Sendable, Equatable {
        case reading, ledger, reports
        /// `total`: the files the run is expected to write (shown while the count stays within it).
        case writing(total: Int)
        case publishing
        /// `send`: `total` messages to deliver (counted by `fileWritten`).
        case sending(total: Int)
    }

    /// An input file, for the byte progress of the reading stage.
    struct Input: Sendable {
        var name: String
        /// The file's real path (what `/proc/self/fd` links to), when it exists.
        var realPath: String?
        /// Bytes, for regular files.
        var size: Int64?
    }

    private struct State: Sendable {
        var enabled = false
        var finished = false
        var started = ContinuousClock.now
        var after: Duration = .seconds(1)
        var stage: Stage? = nil
        var inputs: [Input] = []
        /// The input the reader was last seen in, shown between two looks that find none open.
        var lastInput: Int? = nil
        /// The text on the screen now, `nil` when no progress line is drawn.
        var shown: String? = nil
        var tickerRunning = false
    }

    private let state = Mutex(State())
    private let written = Atomic<Int>(0)

    /// Turns the line on when stderr is a terminal and `quiet` is not set, and starts timing the run.
    func begin(quiet: Bool, inputs paths: [String], stage first: Stage = .reading) {
        let environment = ProcessInfo.processInfo.environment
        // A `dumb` terminal (Emacs' shell) cannot clear a line.
        let enabled = !quiet && isatty(2) == 1 && environment["TERM"] != "dumb"
        let after = environment["BALANCE_REPORT_PROGRESS_AFTER"].flatMap(Double.init).flatMap { $0.isFinite ? $0 : nil } ?? 1
        let startTicker = state.withLock { state -> Bool in
            guard enabled, !state.finished else { return false }
            state.enabled = true
            state.after = .milliseconds(Int64(max(0, after) * 1000))
            state.inputs = paths.map(ProgressLine.input)
            state.stage = first
            draw(&state)
            let start = !state.tickerRunning
            state.tickerRunning = true
            return start
        }
        if startTicker {
            let thread = Thread { [self] in
                while tick() { usleep(100_000) }
            }
            thread.name = "progress"
            thread.start()
        }
    }

    /// The pipeline's `stageDone`: the next stage starts.
    func stageDone(_ stage: BalancePipeline.Stage) {
        switch stage {
        case .ingest: set(.ledger)
        case .ledger: set(.reports)
        case .report: set(nil)   // the run summary comes next
        case .compare, .render, .publish: break
        }
    }

    func set(_ stage: Stage?) {
        state.withLock { state in
            guard state.enabled, !state.finished else { return }
            state.stage = stage
            if stage == nil { clear(&state) } else { draw(&state) }
        }
    }

    /// One more file handed to the writer (from any thread).
    func fileWritten() {
        written.wrappingAdd(1, ordering: .relaxed)
    }

    /// Clears the line for good; nothing is drawn after this.
    func finish() {
        state.withLock { state in
            clear(&state)
            state.finished = true
        }
    }

    /// Prints a line on stderr, clearing the progress line first (the ticker draws it again below).
    func printLine(_ text: String) {
        state.withLock { state in
            clear(&state)
            ProgressLine.write(Escaping.terminal(text) + "\n")
        }
    }

    // MARK: Drawing (under the lock)

    /// Redraws the line; `false` once the run is finished.
    private func tick() -> Bool {
        state.withLock { state in
            guard !state.finished else {
                state.tickerRunning = false
                return false
            }
            draw(&state)
            return true
        }
    }

    private func draw(_ state: inout State) {
        guard state.enabled, !state.finished, let stage = state.stage,
              ContinuousClock.now - state.started >= state.after else { return }
        let text = ProgressLine.fit(Escaping.terminal(describe(stage, &state)), columns: ProgressLine.terminalColumns())
        guard text != state.shown else { return }
        ProgressLine.write("\r" + text + "\u{1B}[K")
        state.shown = text
    }

    private func clear(_ state: inout State) {
        guard state.shown != nil else { return }
        ProgressLine.write("\r\u{1B}[K")
        state.shown = nil
    }

    private func describe(_ stage: Stage, _ state: inout State) -> String {
        switch stage {
        case .reading:
            let inputs = state.inputs
            let of = inputs.count > 1 ? ", file \((state.lastInput ?? 0) + 1) of \(inputs.count)" : ""
            if let (index, position) = ProgressLine.readPosition(inputs) {
                state.lastInput = index
                let input = inputs[index]
                let of = inputs.count > 1 ? ", file \(index + 1) of \(inputs.count)" : ""
                if let size = input.size, position > 0 {
                    return "reading \(input.name) \(ProgressLine.megabytes(min(position, size), of: size)) / \(ProgressLine.megabytes(size, of: size))" + of
                }
                return "reading \(input.name)" + (input.size.map { " " + ProgressLine.megabytes($0, of: $0) } ?? "") + of
            }
            if let last = state.lastInput {
                return "reading \(inputs[last].name)" + of
            }
            let total = inputs.compactMap(\.size).reduce(0, +)
            return "reading \(inputs.count) file\(inputs.count == 1 ? "" : "s")" + (total > 0 ? ", " + ProgressLine.megabytes(total, of: total) : "")
        case .ledger: return "ledger"
        case .reports: return "reports"
        case .writing(let total):
            let count = written.load(ordering: .relaxed)
            return count <= total ? "writing \(Digits.grouped(Int128(count), separator: ",")) / \(Digits.grouped(Int128(total), separator: ",")) files"
                                  : "writing \(Digits.grouped(Int128(count), separator: ",")) files"
        case .publishing: return "publishing"
        case .sending(let total):
            return "sending \(Digits.grouped(Int128(min(written.load(ordering: .relaxed) + 1, total)), separator: ",")) / \(Digits.grouped(Int128(total), separator: ",")) messages"
        }
    }

    // MARK: Helpers

    private static func input(_ path: String) -> Input {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        var info = stat()
        let size: Int64? = stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int64(info.st_size) : nil
        var real: String? = nil
        if let resolved = realpath(path, nil) {
            real = String(cString: resolved)
            free(resolved)
        }
        return Input(name: name, realPath: real, size: size)
    }

    /// Which input the reader has open and how far it has read, from `/proc/self/fd` and
    /// `/proc/self/fdinfo` (Linux); `nil` when none is open or there is no `/proc`.
    private static func readPosition(_ inputs: [Input]) -> (Int, Int64)? {
        #if os(Linux)
        guard let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return nil }
        var found: (Int, Int64)? = nil
        for fd in fds {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + fd),
                  let index = inputs.firstIndex(where: { $0.realPath == target }),
                  let info = try? String(contentsOfFile: "/proc/self/fdinfo/" + fd, encoding: .utf8),
                  let line = info.split(separator: "\n").first(where: { $0.hasPrefix("pos:") }),
                  let position = Int64(line.dropFirst(4).trimmingCharacters(in: .whitespaces)) else { continue }
            // A file may be open twice (sniffed, then read): the one furthest in wins.
            if found == nil || position > found!.1 { found = (index, position) }
        }
        return found
        #else
        return nil
        #endif
    }

    /// `bytes` in decimal megabytes, with one decimal when `scale` (the total) is under 10 MB.
    static func megabytes(_ bytes: Int64, of scale: Int64) -> String {
        let mb = Double(bytes) / 1_000_000
        return scale < 10_000_000 ? String(format: "%.1f MB", mb) : "\(Int(mb.rounded())) MB"
    }

    /// At most `columns − 1` characters: a line that wraps could not be rewritten with `\r`.
    static func fit(_ text: String, columns: Int) -> String {
        let room = max(columns - 1, 8)
        return text.count <= room ? text : String(text.prefix(room - 1)) + "…"
    }

    static func terminalColumns() -> Int {
        var size = winsize()
        return ioctl(2, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }

    private static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let done = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
            if done < 0 && errno == EINTR { continue }
            guard done > 0 else { return }
            offset += done
        }
    }
}
