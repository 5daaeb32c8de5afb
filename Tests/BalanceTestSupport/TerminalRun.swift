import Foundation

/// The binary run with its stdout and stderr on a pseudo-terminal (`Tests/scripts/run_in_pty.py`,
/// Python's `pty`): what a person at a terminal sees, byte for byte.
enum TerminalRun {
    struct Result {
        var status: Int32
        /// Every byte the terminal received.
        var terminal: String
    }

    /// `stderrFile`: stderr goes to that file instead, stdout stays on the terminal.
    static func run(_ arguments: [String], columns: Int = 200, stderrFile: String? = nil,
                    environment: [String: String] = ["BALANCE_REPORT_PROGRESS_AFTER": "0"]) throws -> Result {
        var script = [Repository.root.appendingPathComponent("Tests/scripts/run_in_pty.py").path, "--columns", String(columns)]
        if let stderrFile { script += ["--stderr", stderrFile] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + script + ["--", BalanceReportBinary.url.path] + arguments
        process.currentDirectoryURL = Repository.root
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, terminal: String(decoding: data, as: UTF8.self))
    }
}

/// The texts of the progress line as drawn (`\r` TEXT `\e[K`), in order.
func progressTexts(_ terminal: String) throws -> [String] {
    let drawn = try Regex(#"\r([^\r\n\x1B]+)\x1B\[K"#)
    return terminal.matches(of: drawn).map { String(terminal[$0.range].dropFirst().dropLast(3)) }
}

/// The terminal's bytes less the progress line (drawn and cleared): what the lines alone would be.
func withoutProgress(_ terminal: String) throws -> String {
    terminal.replacing(try Regex(#"\r[^\r\n\x1B]*\x1B\[K"#), with: "")
}

