import Foundation
import Glibc

/// The binary run as a child process of its own (posix_spawn + wait4), so a test can read that
/// one child's peak memory and CPU time, and can kill it at a chosen moment.
final class SpawnedProcess {
    struct Result {
        /// The exit code, or -N when signal N ended the process.
        var status: Int32
        var stdout: String
        var stderr: String
        /// Peak resident memory of the child, in KiB (`ru_maxrss`).
        var maxRSSKiB: Int
        /// User + system CPU time of the child.
        var cpuSeconds: Double
        var wallSeconds: Double
    }

    let pid: pid_t
    private let outputFolder: URL
    private let started = Date()

    /// Starts the `balance-report` binary with `arguments` in `directory`.
    convenience init(_ arguments: [String], in directory: URL = Repository.root, environment: [String: String] = [:]) throws {
        try self.init(executable: BalanceReportBinary.url.path, arguments, in: directory, environment: environment)
    }

    init(executable: String, _ arguments: [String], in directory: URL = Repository.root, environment: [String: String] = [:]) throws {
        outputFolder = FileManager.default.temporaryDirectory.appendingPathComponent("balance-report-spawn-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: outputFolder, withIntermediateDirectories: true)
        // `env -C DIR` changes the folder and then execs the program: the pid (and so its rusage) is the binary's.
        let argv = ["/usr/bin/env", "-C", directory.path, executable] + arguments
        var env = ProcessInfo.processInfo.environment
        env["BALANCE_REPORT_TIMINGS"] = "1"
        for (key, value) in environment { env[key] = value }
        let envp = env.map { "\($0.key)=\($0.value)" }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFolder.appendingPathComponent("stdout").path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, outputFolder.appendingPathComponent("stderr").path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = envp.map { strdup($0) } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var child: pid_t = 0
        let status = posix_spawn(&child, argv[0], &actions, nil, &cArgs, &cEnv)
        guard status == 0 else { throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EINVAL) }
        pid = child
    }

    func kill(_ signal: Int32 = SIGKILL) {
        _ = Glibc.kill(pid, signal)
    }

    /// Waits for the process to end.
    func wait() -> Result {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let wall = Date().timeIntervalSince(started)
        let code: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : -(status & 0x7F)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let out = (try? String(contentsOf: outputFolder.appendingPathComponent("stdout"), encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: outputFolder.appendingPathComponent("stderr"), encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: outputFolder)
        // ru_maxrss counts the test runner's own memory too (posix_spawn shares it until exec),
        // so the binary's own peak (VmHWM, printed under BALANCE_REPORT_TIMINGS) is preferred.
        let reported = err.split(separator: "\n").first { $0.hasPrefix("timing: peak memory ") }
            .flatMap { Int($0.split(separator: " ")[3]) }
        return Result(status: code, stdout: out, stderr: err, maxRSSKiB: reported ?? Int(usage.ru_maxrss), cpuSeconds: cpu, wallSeconds: wall)
    }

    /// Runs the binary to its end.
    static func run(_ arguments: [String], in directory: URL = Repository.root, environment: [String: String] = [:]) throws -> Result {
        try SpawnedProcess(arguments, in: directory, environment: environment).wait()
    }
}

/// Every entry (files, folders, symbolic links) below `root`, as sorted relative paths; links are
/// listed, never followed.
func allEntries(_ root: URL) -> [String] {
    var result: [String] = []
    func walk(_ path: String, _ relative: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return }
        for name in names {
            let full = path + "/" + name
            let rel = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(full, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                result.append(rel + "/")
                walk(full, rel)
            } else {
                result.append(rel)
            }
        }
    }
    walk(root.path, "")
    return result.sorted()
}
