import BalanceSend
import BalanceOutput
import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
/// What stops a run as a whole, whatever `--allow-rejects` says.
public enum RunError: Error, Sendable, Equatable, CustomStringConvertible {
    /// SPEC §3: an input that cannot be read as a whole (missing, a folder, not an export, a
    /// refused header or encoding, a DOCTYPE, not well-formed before its first record). Each
    /// entry is `file: reason` or `file:line: reason`.
    case unreadableFiles([String])
    /// SPEC §2.1: one run has one currency. Each currency with where it first appears (`file:line`).
    case mixedCurrencies([String], locations: [String])

    public var description: String {
        switch self {
        case .unreadableFiles(let failures):
            return failures.joined(separator: "\n")
        case .mixedCurrencies(let currencies, let locations):
            return "one run has one currency, found "
                + zip(currencies, locations).map { "\($0) (first in \($1))" }.joined(separator: " and ")
        }
    }
}
