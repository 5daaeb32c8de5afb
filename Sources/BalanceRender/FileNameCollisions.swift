import BalanceReport
import BalanceModel
import BalanceSupport
/// File-name collisions, checked before anything is written.
///
/// `FileNames.safeName` is injective on a case-sensitive file system: plain names never start
/// with `_`, encoded names always do, the hex form is injective, and the hashed form (`_h` + 32
/// hex digits, for ids over 64 bytes) cannot equal a hex form (`h` is no hex digit) — only a
/// 128-bit hash collision could make two long ids share a name. But reports are copied to
/// Windows shares, unpacked on macOS and zipped into mail: there `ACME.html` and `acme.html` are
/// one file, and the second would silently replace the first. So names that differ only in letter
/// case are a collision too, and so is a partner folder named like a file of the run
/// (`summary.json`, `rejects.csv`). A collision is an error naming both ids, never an overwrite.
extension ReportRenderer {
    package static let runFiles = OutputFiles.runFiles

    public static func checkFileNames(_ report: RunReport) throws(Diagnostic) {
        try checkPartnerFolders(report.partners.map(\.partnerID))
        for partner in report.partners {
            var clients: [String: String] = [:]
            for (index, client) in partner.clients.enumerated() {
                // A client's entries in two currencies share its one file.
                if index > 0 && client.client.id.bytesEqual(partner.clients[index - 1].client.id) { continue }
                let name = FileNames.safeName(for: client.client.id)
                let key = name.lowercased()
                if let other = clients[key] {
                    throw Diagnostic("clients \(quoted(other)) and \(quoted(client.client.id)) of partner \(quoted(partner.partnerID)) would share the file name \(name) (names that differ only in case are one name on Windows and macOS)")
                }
                clients[key] = client.client.id
            }
        }
    }

    /// Partner folders differ in more than letter case, and from the run's own files; also across
    /// the parts of a run rendered per partner (`MergedOutput`).
    package static func checkPartnerFolders(_ partnerIDs: [String]) throws(Diagnostic) {
        var folders: [String: String] = [:]
        for id in partnerIDs {
            let folder = FileNames.safeName(for: id)
            let key = folder.lowercased()
            if runFiles.contains(key) {
                throw Diagnostic("partner \(quoted(id)) would get the folder \(folder), the name of the run's \(key)")
            }
            if let other = folders[key] {
                throw Diagnostic("partners \(quoted(other)) and \(quoted(id)) would share the folder \(folder) (names that differ only in case are one name on Windows and macOS)")
            }
            folders[key] = id
        }
    }

    /// An id for an error message: quoted, control characters escaped, very long ids cut.
    static func quoted(_ id: String) -> String {
        var text = ""
        for scalar in id.unicodeScalars.prefix(80) {
            if scalar.value < 0x20 || scalar.value == 0x7F { text += "\\u{\(String(scalar.value, radix: 16))}" } else { text.unicodeScalars.append(scalar) }
        }
        if id.unicodeScalars.count > 80 { text += "… (\(id.utf8.count) bytes)" }
        return "'" + text + "'"
    }
}
