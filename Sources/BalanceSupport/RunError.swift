
/// Why a run stopped: what to tell the user, in order, and the exit code. Whatever stage stopped
/// it, the caller prints `diagnostics` and exits with `exitCode`; nothing was published.
public struct RunError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public var exitCode: Int32

    public init(_ diagnostics: [Diagnostic], exitCode: Int32? = nil) {
        self.diagnostics = diagnostics
        self.exitCode = exitCode ?? diagnostics.map(\.exitCode).max() ?? Diagnostic.dataError
    }

    public init(_ diagnostic: Diagnostic) {
        self.init([diagnostic])
    }

    public init(_ message: String, exitCode: Int32 = Diagnostic.dataError) {
        self.init([Diagnostic(message, exitCode: exitCode)])
    }

    /// One error per message.
    public init(messages: [String], exitCode: Int32 = Diagnostic.dataError) {
        self.init(messages.map { Diagnostic($0, exitCode: exitCode) }, exitCode: exitCode)
    }

    /// The messages alone, in order.
    public var messages: [String] { diagnostics.map(\.message) }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
