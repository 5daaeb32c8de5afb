import BalanceReport
import BalanceSupport

/// The stages of a run, in the order they run; the observer hears the end of each.
public enum Stage: String, Sendable, CaseIterable {
    case ingest, ledger, report, compare, render, publish
}

/// What a run tells whoever started it while it runs: progress and timings (the command line's
/// progress line), the run summary once it is known, and warnings and notes as they arise.
/// Everything has a default that does nothing.
public protocol RunObserver: AnyObject, Sendable {
    func stageDone(_ stage: Stage)
    /// The run report is built (before anything is written): the summary can be shown.
    func analysed(_ report: RunReport)
    /// `files` files are about to be written.
    func willWrite(files: Int)
    func wroteFile()
    func willPublish()
    /// A warning or a note; errors are thrown (`RunError`), never reported here.
    func report(_ diagnostic: Diagnostic)
}

extension RunObserver {
    public func stageDone(_ stage: Stage) {}
    public func analysed(_ report: RunReport) {}
    public func willWrite(files: Int) {}
    public func wroteFile() {}
    public func willPublish() {}
    public func report(_ diagnostic: Diagnostic) {}
}

/// An observer that hears nothing: for callers that only want the outcome.
public final class SilentObserver: RunObserver, Sendable {
    public init() {}
}
