import ArgumentParser
import BalanceIngest
import BalanceModel
import BalancePipeline
import BalanceRender
import BalanceReport
import BalanceSupport
import Foundation

/// `BALANCE_REPORT_TIMINGS=1` prints how long each stage took (seconds, wall clock) on stderr.
enum Timings {
    nonisolated(unsafe) static var last = Date()
    static let enabled = ProcessInfo.processInfo.environment["BALANCE_REPORT_TIMINGS"] == "1"

    /// The peak resident memory of this process (VmHWM), which, unlike `ru_maxrss`, is not
    /// inflated by the parent's memory when the process was started with vfork.
    static func peakMemory() {
        Diagnostics.line("timing: peak memory \(peakKiB()) KiB")
    }

    static func peakKiB() -> String {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return "?" }
        // "VmHWM:\t  123456 kB", and past 10 GB "VmHWM:\t10963404 kB" (a tab, no space).
        return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.map(String.init) ?? "?"
    }

    static func stage(_ name: String) {
        guard enabled else { return }
        let now = Date()
        // The peak so far says which stage set the run's peak memory.
        Diagnostics.line(String(format: "timing: %@ %.3f s (peak so far %@ KiB)", name, now.timeIntervalSince(last), peakKiB()))
        last = now
    }
}

/// Every line the tool prints on stderr, through the progress line's lock.
enum Diagnostics {
    /// A line on stderr (clearing the progress line first, when one is shown).
    static func line(_ text: String) {
        ProgressLine.shared.printLine(text)
    }

    static func error(_ text: String) {
        line("balance-report: error: " + text)
    }

    static func warning(_ text: String) {
        line("balance-report: warning: " + text)
    }

    static func print(_ diagnostic: Diagnostic) {
        switch diagnostic.severity {
        case .error: error(diagnostic.description)
        case .warning: warning(diagnostic.description)
        case .note: line(diagnostic.location == nil ? "note: " + diagnostic.message : diagnostic.description)
        }
    }

    /// Prints why a run stopped; the error to throw so that the process exits with its code.
    static func fail(_ error: RunError) -> Reported {
        for diagnostic in error.diagnostics { print(diagnostic) }
        return Reported(code: error.exitCode)
    }

    static func summary(_ report: RunReport) {
        for text in SummaryText.lines(report) { line(text) }
    }
}

/// What a command shows while the pipeline runs: the progress line, the timings, the run summary
/// (always when records were rejected) and, unless `--quiet`, warnings and notes.
final class CommandObserver: RunObserver {
    let quiet: Bool

    init(quiet: Bool) { self.quiet = quiet }

    func stageDone(_ stage: Stage) {
        Timings.stage(stage.rawValue)
        ProgressLine.shared.stageDone(stage)
    }

    func analysed(_ report: RunReport) {
        if !quiet || report.summary.hasRejections { Diagnostics.summary(report) }
    }

    func willWrite(files: Int) { ProgressLine.shared.set(.writing(total: files)) }
    func wroteFile() { ProgressLine.shared.fileWritten() }
    func willPublish() { ProgressLine.shared.set(.publishing) }

    func report(_ diagnostic: Diagnostic) {
        if !quiet { Diagnostics.print(diagnostic) }
    }
}
