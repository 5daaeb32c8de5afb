import BalanceModel
import BalanceSupport
/// How a billing system's own row layout becomes transactions, beyond renaming columns: what an
/// import profile says of rows that are not one SPEC transaction each (FinOps FOCUS, the Yandex
/// Cloud partner report).
public struct RowLayout: Sendable, Equatable {
    /// An amount column and the type of the transaction it gives.
    public struct AmountColumn: Sendable, Equatable {
        public var column: String
        public var kind: TransactionKind
    }

    /// `row_ids: content`: a transactions file without an `id` column gets each row's id from
    /// its content: `row-` and a 128-bit FNV-1a hash of every field of the row, so the same row in
    /// two overlapping exports is one duplicate, and a row repeated byte for byte counts once.
    public var idsFromContent = false
    /// `row_ids: fields` (with `idsFromContent`): the id hashes what the run reads of the row and
    /// counts identical rows of a file (`CSVRecordSink.fieldsID`).
    public var idsFromFields = false
    /// `amount_columns`: each column is one transaction of its type. The first always gives a
    /// record (a zero one too: free usage is a real line); the others only when not zero, so a
    /// row without a credit has no empty refund beside its charge. Ids get `-column` appended.
    public var amountColumns: [AmountColumn] = []
    /// `clients_from_rows`: a layout without a clients file names its clients in the rows. With
    /// no clients records in the run, each client found is taken from its first row: the name
    /// from `clientName`, the partner from `clientPartner` (`default` without one).
    public var clientsFromRows = false
    public var clientName: String? = nil
    public var clientPartner: String? = nil
    /// `supersede`: a day re-exported later replaces its earlier export. Rows are grouped by the
    /// `day` column; within a day only the rows of the latest `version` (a timestamp, such as
    /// `exported_at`) count, the others are `superseded` in the run summary, with their amounts.
    public var supersedeDay: String? = nil
    public var supersedeVersion: String? = nil
    /// `invoices`: the columns of each row's invoice and charge class (`InvoiceLayout`).
    public var invoices: InvoiceLayout? = nil

    public init() {}

    public var isEmpty: Bool { self == RowLayout() }
}

/// A layout's columns found in one file's header.
struct RowShape: Sendable {
    var idsFromContent: Bool
    var idsFromFields: Bool
    /// Header index and type of each amount column.
    var amountColumns: [(index: Int, name: String, kind: TransactionKind)]
    var derivesClients: Bool
    var nameColumn: Int?
    var partnerColumn: Int?
    var dayColumn: Int?
    var versionColumn: Int?
    /// The invoice columns this header has (`nil`: none, nothing read per row).
    var invoice: InvoiceColumns? = nil

    /// Resolves `layout` against a header's names (as written); throws the reason when a column it
    /// names is missing.
    init(_ layout: RowLayout, header written: [String]) throws(CSVRecordSink.HeaderError) {
        let normalized = written.map(HeaderMapping.normalize)
        func index(_ name: String, _ role: String) throws(CSVRecordSink.HeaderError) -> Int {
            // `BillingAccountId` is also found as `billing_account_id` (snake_case exports of FOCUS).
            func bare(_ text: String) -> String { text.replacingOccurrences(of: "_", with: "") }
            let wanted = HeaderMapping.normalize(name)
            guard let found = normalized.firstIndex(of: wanted) ?? normalized.firstIndex(where: { bare($0) == bare(wanted) }) else {
                throw CSVRecordSink.HeaderError(kind: .transaction, reason: "missing column \(name) (the profile's \(role))")
            }
            return found
        }
        idsFromContent = layout.idsFromContent
        idsFromFields = layout.idsFromFields
        amountColumns = []
        for column in layout.amountColumns {
            amountColumns.append((try index(column.column, "amount_columns"), column.column, column.kind))
        }
        derivesClients = layout.clientsFromRows
        nameColumn = try layout.clientName.map { (name) throws(CSVRecordSink.HeaderError) in try index(name, "clients_from_rows name") }
        partnerColumn = try layout.clientPartner.map { (name) throws(CSVRecordSink.HeaderError) in try index(name, "clients_from_rows partner") }
        dayColumn = try layout.supersedeDay.map { (name) throws(CSVRecordSink.HeaderError) in try index(name, "supersede day") }
        versionColumn = try layout.supersedeVersion.map { (name) throws(CSVRecordSink.HeaderError) in try index(name, "supersede version") }
        invoice = InvoiceColumns(layout.invoices, header: written)
    }

    /// `row-` and the hex of a 128-bit FNV-1a hash over every field (a unit separator between).
    /// The provenance columns of a row passed on by the Spark route are not its content.
    static func contentID(_ row: CSVRow, skipping provenance: Provenance.Columns? = nil) -> String {
        var hash = FNV1a128()
        for index in 0..<row.count where index != provenance?.file && index != provenance?.line {
            row.withField(index) { hash.add($0) }
            hash.add(CollectionOfOne(0x1F))
        }
        return rowID(hash)
    }

    /// The id of a row without one (`row_ids: content` or `fields`): `row-` and the hash's 32 hex digits.
    static func rowID(_ hash: FNV1a128) -> String {
        "row-" + String(hash.value, radix: 16).leftPadded(to: 32)
    }
}

/// A row's fields with the layout's own: a derived id, the type of an amount column, and that
/// column as the amount. Every other field is the row's.
struct DerivedFields<Base: SourceFields>: SourceFields {
    let base: Base
    let row: CSVRow
    let id: [UInt8]?
    let type: [UInt8]?
    let amountColumn: Int?
    let nullTokens: [[UInt8]]
    /// The client as a partner-qualified key (`RowPartnerKey`), for a layout that names the
    /// partner in every row.
    var client: [UInt8]? = nil
    /// A correction of an earlier period: booked at its billing period start, described as such.
    var timestamp: [UInt8]? = nil
    var description: [UInt8]? = nil

    func withField<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        switch index {
        case 0 where id != nil: return try id!.withUnsafeBufferPointer(body)
        case 1 where timestamp != nil: return try timestamp!.withUnsafeBufferPointer(body)
        case 7 where description != nil: return try description!.withUnsafeBufferPointer(body)
        case 2 where client != nil: return try client!.withUnsafeBufferPointer(body)
        case 3 where type != nil: return try type!.withUnsafeBufferPointer(body)
        case 5 where amountColumn != nil:
            return try row.withField(amountColumn!) { bytes in
                if nullTokens.contains(where: { $0.elementsEqual(bytes) }) { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
                return try body(bytes)
            }
        default: return try base.withField(index, body)
        }
    }
}


enum Supersession {
    /// Moves every transaction of a day that a later export of that day replaces out of
    /// `export.transactions` into `export.superseded`.
    static func apply(_ export: inout IngestedExport) {
        guard !export.supersedeEntries.isEmpty else { return }
        var latest: [ByteKey: Instant] = [:]
        for entry in export.supersedeEntries {
            if let known = latest[entry.day], !(known < entry.version) { continue }
            latest[entry.day] = entry.version
        }
        var replaced = [Bool](repeating: false, count: export.transactions.count)
        for entry in export.supersedeEntries where entry.version < latest[entry.day]! {
            replaced[entry.transaction] = true
        }
        for row in replaced.indices where replaced[row] { export.superseded.append(export.transactions[row]) }
        export.transactions = export.transactions.filtered { !replaced[$0] }
        export.supersedeEntries = []
    }
}

