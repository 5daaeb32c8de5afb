import BalanceSupport

/// Client keys of layouts that name the partner in every row (FOCUS `BillingAccountId`, through a
/// profile's `clients_from_rows: partner:`), SPEC §3: each row's money belongs to the partner that
/// row names, so a sub-account billed under two billing accounts is two clients, one per partner.
///
/// Such a row's client is interned in the transaction table under a key that holds both ids, so
/// that grouping by client (the ledger, duplicates, balances) never mixes two partners' rows; the
/// client id shown in reports and file names stays the row's own bytes. A key is
/// `0x1F`, the partner id's length in decimal, `0x1F`, the partner id's bytes, the client id's bytes:
/// unambiguous whatever bytes either id holds, and never valid as a plain id of the same run's
/// other layouts in practice (ids do not start with a control character).
///
/// A row that names a partner and no client (FOCUS requires a null `SubAccountId` for a charge of
/// the billing account itself: support, tax) is the partner's own account-level charge: its key has
/// an empty client, and it is reported as one pseudo-client per partner, `accountLevelID`.
public enum RowPartnerKey {
    static let marker: UInt8 = 0x1F

    /// The id shown for a partner's account-level charges: no sub-account id of AWS (digits),
    /// Azure (`/subscriptions/…`), GCP (lower-case letters, digits, hyphens) or OCI (`ocid1.…`) has
    /// parentheses. A real client of that id in the same partner is refused as a file-name collision.
    public static let accountLevelID = "(account-level)"
    /// The name shown for it.
    public static let accountLevelName = "Account-level charges of the billing account (no sub-account)"

    public static func encode(partner: some Collection<UInt8>, client: some Collection<UInt8>) -> [UInt8] {
        var key: [UInt8] = [marker]
        key.append(contentsOf: String(partner.count).utf8)
        key.append(marker)
        key.append(contentsOf: partner)
        key.append(contentsOf: client)
        return key
    }

    /// The partner and client ids of a key, or `nil` for a plain client id.
    public static func decode(_ key: some Collection<UInt8>) -> (partner: [UInt8], client: [UInt8])? {
        let bytes = Array(key)
        guard bytes.count >= 3, bytes[0] == marker else { return nil }
        var index = 1
        var length = 0
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39, index < 12 {
            length = length * 10 + Int(bytes[index] - 0x30)
            index += 1
        }
        guard index > 1, index < bytes.count, bytes[index] == marker, bytes.count - index - 1 >= length else { return nil }
        let start = index + 1
        return (Array(bytes[start..<(start + length)]), Array(bytes[(start + length)...]))
    }

    public static func decode(_ key: String) -> (partner: String, client: String)? {
        decode(key.utf8).map { (String(decoding: $0.partner, as: UTF8.self), String(decoding: $0.client, as: UTF8.self)) }
    }

    /// The client id a key stands for in reports (`accountLevelID` for the account-level charges);
    /// a plain id is itself.
    public static func shownID(_ key: String) -> String {
        guard let (_, client) = decode(key) else { return key }
        return client.isEmpty ? accountLevelID : client
    }

    /// A client taken from a row (`clients_from_rows`) whose id is a key: its shown id, and the
    /// account-level pseudo-client's name. A record with a plain id is returned as it is.
    public static func shown(_ record: ClientRecord) -> ClientRecord {
        guard let (_, client) = decode(record.id) else { return record }
        var shown = record
        shown.id = client.isEmpty ? accountLevelID : client
        if client.isEmpty { shown.name = accountLevelName }
        return shown
    }
}
