/// One problem as the tool reports it: how bad, where, what, and the exit code a run that it
/// stops ends with. Every stage throws or returns these; only the command line prints them.
///
/// One type instead of an error type per stage: a message is a message wherever it arose, and
/// the exit code travels with it (1: the data, the templates or the output stopped the run;
/// 2: the command line is wrong), so no caller has to map error types to codes.
public struct Diagnostic: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        case error, warning, note
    }

    public var severity: Severity
    /// `file` or `file:line`, when the problem is in a file.
    public var location: String?
    public var message: String
    public var exitCode: Int32

    /// Exit codes: 0 the run succeeded; 1 the data, the templates or the output stopped it; 2 the
    /// command line is wrong.
    public static let dataError: Int32 = 1
    public static let usage: Int32 = 2

    public init(_ message: String, severity: Severity = .error, location: String? = nil, exitCode: Int32 = Diagnostic.dataError) {
        self.severity = severity
        self.location = location
        self.message = message
        self.exitCode = exitCode
    }

    public static func warning(_ message: String, location: String? = nil) -> Diagnostic {
        Diagnostic(message, severity: .warning, location: location, exitCode: 0)
    }

    public static func note(_ message: String, location: String? = nil) -> Diagnostic {
        Diagnostic(message, severity: .note, location: location, exitCode: 0)
    }

    /// `file:line: message`, or the message alone.
    public var description: String { location.map { "\($0): \(message)" } ?? message }
}
