import BalanceModel
import BalanceSupport
extension RecordKind {
    /// Fields only this kind has: a header with one of them is not a file of another kind, even
    /// when it also holds all of another kind's required fields (a transactions file whose amount
    /// column is called `sum` still has `service`, and is not an events file).
    var ownFields: [String] {
        switch self {
        case .transaction: return ["amount", "service", "currency", "description"]
        case .client: return ["email", "name", "phone", "partner_id", "balance", "balance_at", "balance_currency"]
        case .event: return []
        }
    }

    /// Which kind a CSV header describes: `amount` and `id` mean transactions, `email` and
    /// `client_id` clients, `timestamp`, `type` and `client_id` (and nothing only transactions or
    /// clients have) events.
    public static func detect(fromHeader names: Set<String>) -> RecordKind? {
        if names.contains("amount") && names.contains("id") { return .transaction }
        if names.contains("email") && names.contains("client_id") { return .client }
        if names.contains("timestamp") && names.contains("type") && names.contains("client_id")
            && !RecordKind.transaction.ownFields.contains(where: names.contains)
            && !RecordKind.client.ownFields.contains(where: names.contains) { return .event }
        return nil
    }

    /// The kind a header that `detect` cannot place comes closest to, when it has one of the
    /// fields only that kind has (`nil`: nothing to go by).
    static func nearest(fromHeader names: Set<String>) -> RecordKind? {
        let scored = RecordKind.allCases.map { kind in
            (kind, kind.ownFields.filter(names.contains).count, kind.requiredFields.filter(names.contains).count)
        }
        guard let best = scored.max(by: { ($0.1, $0.2) < ($1.1, $1.2) }), best.1 > 0 else { return nil }
        return best.0
    }

    /// `a transactions file`, `a clients file`, `an events file`.
    var fileName: String { (self == .event ? "an " : "a ") + "\(xmlSection) file" }

    /// What to do about columns a header lacks: rename them or read the layout through a profile.
    static let mappingAdvice = "rename the export's columns with --map 'COLUMN=FIELD' (repeatable), "
        + "or read its layout through an import profile (--profile FILE, or a built-in one: balance-report profiles)"

    /// Why a header (`written`: its names as the file writes them; `present`: the field names they
    /// stand for after renames) is not an export the tool can read: which columns each kind lacks,
    /// and what to do.
    static func undetectedReason(written: [String], present: Set<String>) -> String {
        let header = written.joined(separator: ",")
        if let nearest = nearest(fromHeader: present) {
            let missing = nearest.requiredFields.filter { !present.contains($0) }
            return "the header (\(header)) looks like \(nearest.fileName) but lacks column \(missing.joined(separator: ", ")) "
                + "(\(nearest.fileName) needs \(nearest.requiredFields.joined(separator: ", "))); \(mappingAdvice)"
        }
        let needs = RecordKind.allCases.map { kind in
            let missing = kind.requiredFields.filter { !present.contains($0) }
            return "\(kind.fileName) needs \(kind.requiredFields.joined(separator: ", "))"
                + (missing.isEmpty || missing.count == kind.requiredFields.count ? "" : " (missing \(missing.joined(separator: ", ")))")
        }
        return "cannot tell the kind of export from the header (\(header)): \(needs.joined(separator: "; ")); \(mappingAdvice)"
    }

    /// Why a header of this kind cannot be read: the required columns it lacks.
    func missingReason(_ missing: [String]) -> String {
        "missing column \(missing.joined(separator: ", ")) (\(fileName) needs \(requiredFields.joined(separator: ", "))); "
            + RecordKind.mappingAdvice
    }
}

/// Renames applied to column and XML field names before anything else (`--map 'Сумма=amount'`),
/// for exports whose headers differ from SPEC §2.
public struct HeaderMapping: Sendable, Equatable {
    public var renames: [String: String]

    public init(_ renames: [String: String] = [:]) {
        var normalized: [String: String] = [:]
        for (from, to) in renames { normalized[HeaderMapping.normalize(from)] = HeaderMapping.normalize(to) }
        self.renames = normalized
    }

    /// Parses `from=to`.
    public static func parsePair(_ text: String) -> (String, String)? {
        guard let equals = text.firstIndex(of: "=") else { return nil }
        let from = String(text[..<equals])
        let to = String(text[text.index(after: equals)...])
        guard !normalize(from).isEmpty, !normalize(to).isEmpty else { return nil }
        return (from, to)
    }

    public func canonicalName(_ raw: String) -> String {
        let name = HeaderMapping.normalize(raw)
        return renames[name] ?? name
    }

    static func normalize(_ raw: String) -> String {
        raw.trimmingWhitespace().lowercased()
    }
}

