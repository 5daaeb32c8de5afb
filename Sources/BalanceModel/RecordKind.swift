import BalanceSupport

/// The three kinds of export records and the field names SPEC §2 gives them.
public enum RecordKind: String, Sendable, CaseIterable, Codable {
    case transaction, client, event

    public var fields: [String] {
        switch self {
        case .transaction: return ["id", "timestamp", "client_id", "type", "service", "amount", "currency", "description"]
        case .client: return ["client_id", "name", "email", "phone", "partner_id", "balance", "balance_at", "balance_currency"]
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

}
