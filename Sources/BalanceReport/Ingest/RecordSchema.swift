/// The three kinds of export records and the field names SPEC §2 gives them.
public enum RecordKind: String, Sendable, CaseIterable, Codable {
    case transaction, client, event

    public var fields: [String] {
        switch self {
        case .transaction: return ["id", "timestamp", "client_id", "type", "service", "amount", "currency", "description"]
        case .client: return ["client_id", "name", "email", "phone", "partner_id", "balance", "balance_at"]
        case .event: return ["client_id", "timestamp", "type"]
        }
    }

    public var requiredFields: [String] {
        switch self {
        case .transaction: return ["id", "timestamp", "client_id", "type", "amount"]
        case .client: return ["client_id", "email"]
        case .event: return ["client_id", "timestamp", "type"]
        }
    }

    /// Element names in XML exports: section and record.
    public var xmlSection: String { self == .client ? "clients" : self == .event ? "events" : "transactions" }
    public var xmlRecord: String { rawValue }

    /// Which kind a CSV header describes: `amount` means transactions, `email` clients,
    /// `timestamp` + `type` events.
    public static func detect(fromHeader names: Set<String>) -> RecordKind? {
        if names.contains("amount") && names.contains("id") { return .transaction }
        if names.contains("email") && names.contains("client_id") { return .client }
        if names.contains("timestamp") && names.contains("type") && names.contains("client_id") { return .event }
        return nil
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

/// Where each schema field sits in a source record (`nil`: the source does not have it).
struct ColumnMap {
    var columns: [Int?]

    init(kind: RecordKind, sourceNames: [String]) {
        columns = kind.fields.map { field in sourceNames.firstIndex(of: field) }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
