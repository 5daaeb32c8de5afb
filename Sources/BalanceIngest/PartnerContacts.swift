import Foundation
import BalanceModel
import BalanceSupport

/// The partner contacts file of `--contacts`: a CSV with the header `partner_id,email,name`
/// (`name` optional; more rows of one partner add recipients), read like the exports (BOM, `,` or `;`).
public enum PartnerContacts {
    /// Keyed by partner id as bytes. Reading stops at the first problem (a file that is not a
    /// contacts file, `/dev/urandom`, is refused at its header, not read to its end).
    public static func read(path: String) throws(Diagnostic) -> [ByteKey: [MailAddress]] {
        struct Stop: Error {}
        var contacts: [ByteKey: [MailAddress]] = [:]
        var columns: (partner: Int, email: Int, name: Int?)? = nil
        var problem: String? = nil
        do {
            var reader = try CSVReader(path: path)
            defer { reader.close() }
            try reader.read(onRow: { row in
                guard problem == nil else { return }
                let fields = (0..<row.count).map { row.string($0) ?? "" }
                guard let known = columns else {
                    let names = fields.map { $0.trimmingCharacters(in: " \t").lowercased() }
                    guard let partner = names.firstIndex(of: "partner_id"), let email = names.firstIndex(of: "email") else {
                        problem = "\(path):\(row.line): the header must name partner_id and email (and optionally name)"
                        throw Stop()
                    }
                    columns = (partner, email, names.firstIndex(of: "name"))
                    return
                }
                if fields.allSatisfy({ $0.isEmpty }) { return }
                let partner = known.partner < fields.count ? fields[known.partner] : ""
                guard !partner.isEmpty else {
                    problem = "\(path):\(row.line): partner_id is empty"
                    throw Stop()
                }
                do {
                    let email = try MailAddress.validEmail(known.email < fields.count ? fields[known.email] : "")
                    let name = known.name.flatMap { $0 < fields.count ? fields[$0] : nil } ?? ""
                    contacts[ByteKey(partner), default: []].append(MailAddress(email: email, name: name))
                } catch let error as Diagnostic {
                    problem = "\(path):\(row.line): \(error.message)"
                    throw Stop()
                }
            }, onMalformed: { error in
                problem = "\(path):\(error.line): \(error.reason)"
                throw Stop()
            })
        } catch is Stop {
        } catch let error as CSVError {
            throw Diagnostic(error.line == 0 ? "\(path): \(error.reason)" : "\(path):\(error.line): \(error.reason)")
        } catch {
            throw Diagnostic("\(path): \(error)")
        }
        if let problem { throw Diagnostic(problem) }
        if columns == nil { throw Diagnostic("\(path): empty (the header partner_id,email,name is missing)") }
        return contacts
    }
}

