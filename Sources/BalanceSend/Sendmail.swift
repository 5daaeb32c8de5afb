internal import CSystemShims
import BalanceOutput
import BalanceRender
import BalanceModel
import BalanceSupport
import Glibc

/// Delivery through the sendmail interface: the Unix convention that msmtp, Postfix and Exim all
/// provide, `CMD -t -oi` with the message on standard input, recipients taken from its headers,
/// exit status 0 when the mail system has taken the message. SMTP, TLS, authentication, retries
/// and queueing stay in the tools made for them, configured once for the machine; this tool
/// speaks no SMTP itself.
public struct Sendmail: Sendable {
    public static let defaultCommand = "/usr/sbin/sendmail -t -oi"

    /// Run by `/bin/sh -c`, so it may quote paths and name a config file: `msmtp -C ~/.msmtprc-billing -t`.
    public var command: String
    /// Seconds a delivery may take; a command still running then is killed (its whole process
    /// group) and the message is *uncertain*: it may have gone out.
    public var timeout: Double

    public static let defaultTimeout: Double = 300

    public init(command: String = Sendmail.defaultCommand, timeout: Double = Sendmail.defaultTimeout) {
        self.command = command
        self.timeout = timeout
    }

    /// The default command's program is missing (no MTA installed): said once, before anything
    /// is tried, rather than as a failure of every partner.
    public var missingDefaultProgram: String? {
        command == Sendmail.defaultCommand && access("/usr/sbin/sendmail", X_OK) != 0 ? "/usr/sbin/sendmail" : nil
    }

    public enum Outcome: Sendable, Equatable {
        /// Exit status 0: the mail system has the message.
        case accepted
        /// A non-zero exit status, or the command could not run: the message was not taken.
        case refused(String)
        /// Killed by a signal, or exited 0 without reading the whole message: it may or may not
        /// have gone out.
        case unknown(String)
    }

    /// Hands `message` to the command and waits for it to end. Lines are given to it ending in LF,
    /// as the interface expects (it puts CRLF back on the wire: the server receives the file's bytes).
    public func deliver(_ message: [UInt8]) -> Outcome {
        // A command that exits without reading its input must not kill this process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let input = Sendmail.unixLineEnds(message)
        var toChild: [Int32] = [-1, -1], fromChild: [Int32] = [-1, -1]
        guard br_pipe_cloexec(&toChild) == 0 else { return .refused("cannot make a pipe: \(FileSystem.lastError)") }
        guard br_pipe_cloexec(&fromChild) == 0 else {
            close(toChild[0]); close(toChild[1])
            return .refused("cannot make a pipe: \(FileSystem.lastError)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 2)
        let argv = ["/bin/sh", "-c", command]
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        // The command gets SIGPIPE back at its default, not the ignoring set above, and no blocked
        // signals (a blocked mask is inherited: a sendmail that `kill` could not stop).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        // A process group of its own: a timeout kills the shell and what it started.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
        var child: pid_t = 0
        let spawned = posix_spawn(&child, "/bin/sh", &actions, &attributes, &cArgs, environ)
        // The read end stays open here until the command has ended: what it left unread is then
        // still in the pipe and counted (a small message fits the pipe whole, read or not).
        let unreadProbe = toChild[0]
        defer { close(unreadProbe) }
        close(fromChild[1])
        guard spawned == 0 else {
            close(toChild[1]); close(fromChild[0])
            return .refused("cannot start /bin/sh: \(FileSystem.errorText(spawned))")
        }

        var writeFD = toChild[1]
        let readFD = fromChild[0]
        _ = fcntl(writeFD, F_SETFL, fcntl(writeFD, F_GETFL) | O_NONBLOCK)
        _ = fcntl(readFD, F_SETFL, fcntl(readFD, F_GETFL) | O_NONBLOCK)
        var written = 0
        var readAll = true
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        var outputOpen = true
        var status: Int32 = 0
        var exited = false
        func readAvailable() {
            while outputOpen {
                let count = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress!, $0.count) }
                if count > 0 {
                    if output.count < 65536 { output.append(contentsOf: buffer[..<count]) }
                } else if count == 0 {
                    outputOpen = false
                } else if errno != EINTR {
                    return   // EAGAIN: nothing more for now
                }
            }
        }
        if input.isEmpty { close(writeFD); writeFD = -1 }
        var started = timespec()
        clock_gettime(CLOCK_MONOTONIC, &started)
        var timedOut = false
        while !exited {
            var fds = [pollfd(fd: writeFD, events: Int16(POLLOUT), revents: 0),
                       pollfd(fd: outputOpen ? readFD : -1, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, 100)
            if writeFD >= 0 && fds[0].revents != 0 {
                let done = input.withUnsafeBytes { write(writeFD, $0.baseAddress! + written, $0.count - written) }
                if done > 0 { written += done }
                if written == input.count || (done < 0 && errno != EAGAIN && errno != EINTR) {
                    readAll = written == input.count
                    close(writeFD)
                    writeFD = -1
                }
            }
            readAvailable()
            // Ends when the command does (a daemon it leaves behind may keep the output open).
            var result: pid_t
            repeat { result = waitpid(child, &status, WNOHANG) } while result < 0 && errno == EINTR
            if result == child { exited = true; break }
            if writeFD < 0 && !outputOpen { usleep(20_000) }
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            if !timedOut, Double(now.tv_sec - started.tv_sec) + Double(now.tv_nsec - started.tv_nsec) / 1e9 >= timeout {
                timedOut = true
                kill(-child, SIGKILL)
                kill(child, SIGKILL)
            }
        }
        if writeFD >= 0 { readAll = false; close(writeFD) }
        readAvailable()
        close(readFD)

        let name = command.split(separator: " ").first.map { String($0.split(separator: "/").last ?? $0) } ?? command
        let words = Sendmail.words(output)
        let said = words.isEmpty ? "" : ": " + words
        if timedOut {
            return .unknown("\(name) did not finish within the \(Int(timeout)) s of --timeout and was killed; whether the message went out is unknown" + said)
        }
        var unread: Int32 = 0
        if ioctl(unreadProbe, UInt(FIONREAD), &unread) == 0, unread > 0 { readAll = false }
        let signalNumber = status & 0x7F
        if signalNumber != 0 {
            return .unknown("\(name) was killed by signal \(signalNumber) while delivering; whether the message went out is unknown" + said)
        }
        let code = (status >> 8) & 0xFF
        if code != 0 { return .refused("\(name) exited with status \(code)" + said) }
        if !readAll {
            return .unknown("\(name) exited 0 without reading the whole message; whether it went out is unknown" + said)
        }
        return .accepted
    }

    /// What the command printed, as one line: its lines joined by ` / `, at most 500 bytes.
    static func words(_ output: [UInt8]) -> String {
        let lines = String(decoding: output, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .map { SentLog.oneLine(String($0), limit: 500) }.filter { $0 != "-" }
        return lines.isEmpty ? "" : SentLog.oneLine(lines.joined(separator: " / "), limit: 500)
    }

    /// CRLF as LF; nothing else changes.
    static func unixLineEnds(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A {
                out.append(0x0A)
                index += 2
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }
}
