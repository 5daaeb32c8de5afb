import Foundation
import BalanceSupport

/// A mailbox: `name <email>`.
public struct MailAddress: Sendable, Equatable {
    public var email: String
    public var name: String

    public init(email: String, name: String = "") {
        self.email = email
        self.name = name
    }

    /// `addr@example.com` or `Name <addr@example.com>`.
    public static func parse(_ text: String) throws(Diagnostic) -> MailAddress {
        let trimmed = text.trimmingCharacters(in: " \t")
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            var name = String(trimmed[..<open]).trimmingCharacters(in: " \t")
            if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") { name = String(name.dropFirst().dropLast()) }
            let email = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            return MailAddress(email: try validEmail(email), name: name)
        }
        return MailAddress(email: try validEmail(trimmed))
    }

    /// A plain ASCII `local@domain` with nothing that could end or add a header field.
    package static func validEmail(_ text: String) throws(Diagnostic) -> String {
        let email = text.trimmingCharacters(in: " \t")
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        let allowed = email.utf8.allSatisfy { byte in
            byte > 0x20 && byte < 0x7F && !"<>()[]\\,;:\"".utf8.contains(byte)
        }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, allowed else {
            throw Diagnostic("'\(email)' is not an e-mail address (ASCII local@domain)")
        }
        return email
    }
}

