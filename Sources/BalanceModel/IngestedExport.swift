import BalanceSupport

/// A record that could not be accepted, with the reason a person can act on.
public struct Rejection: Sendable, Equatable {
    public var source: SourceLocation
    public var kind: RecordKind?
    public var reason: String
    /// The record's id (transactions) or client id, when it could be read.
    public var recordID: String
    /// The record's amount when it could still be read with its currency: it belongs in the
    /// control totals of that currency.
    public var amount: Money?
    /// The currency of `amount` (`RUB` when the record names none).
    public var currency: String
    /// `false` for a problem with a whole file (no header, unterminated quote, not well-formed
    /// XML) rather than with one of its records.
    public var isRecord: Bool

    public init(source: SourceLocation, kind: RecordKind?, reason: String, recordID: String = "", amount: Money? = nil,
                currency: String = "RUB", isRecord: Bool = true) {
        self.source = source
        self.kind = kind
        self.reason = reason
        self.recordID = recordID
        self.amount = amount
        self.currency = currency
        self.isRecord = isRecord
    }
}

/// How one input file was read.
public struct InputFile: Sendable, Equatable {
    public enum Format: String, Sendable, Codable { case csv, xml }
    public var path: String
    public var format: Format
    /// Kinds of records found (a CSV file has one, an XML export up to three).
    public var kinds: [RecordKind]
    /// Records read, whatever became of them.
    public var records: Int
    /// Rows with nothing in them (`,,,,`, a trailing Ctrl-Z): not records, but counted.
    public var blankRows: Int = 0
    /// A file named only by the provenance columns of another file's rows (`Provenance`): the
    /// original export those rows came from, never opened by this run.
    public var isProvenance = false

    public init(path: String, format: Format, kinds: [RecordKind], records: Int, blankRows: Int = 0, isProvenance: Bool = false) {
        self.path = path
        self.format = format
        self.kinds = kinds
        self.records = records
        self.blankRows = blankRows
        self.isProvenance = isProvenance
    }
}

/// Everything read from a run's files: the boundary between Ingest and Model.
public struct IngestedExport: Sendable {
    public var files: [InputFile] = []
    public var transactions = TransactionTable()
    public var clients: [ClientRecord] = []
    public var events: [ClientEvent] = []
    public var rejections: [Rejection] = []
    /// Files that could not be read as a whole: the run stops (SPEC §3), whatever the flags.
    public var fileFailures: [FileFailure] = []
    /// Clients named by the rows of a layout without a clients file (`clients_from_rows`), each
    /// from its first row; used only when the run has no clients records.
    public var derivedClients: [ClientRecord] = []
    package var derivedClientIDs = Set<ByteKey>()
    /// Where each transaction of a superseding layout stands (see `Supersession`).
    package var supersedeEntries: [SupersedeEntry] = []
    /// Transactions of a day that a later export of the same day replaces: counted, never summed.
    public var superseded: [Transaction] = []
    /// The file-list entry of each original file named by provenance columns, by its path's bytes.
    package var provenanceFiles: [ByteKey: Int] = [:]
    /// The float-printed amounts (`float_amounts`) rounded to twelve digits: counted and totalled.
    public var amountRounding = PerCurrency<AmountRounding>()
    /// `row_ids: fields`: how many rows of each (file, content hash) were read so far.
    package var rowOccurrences: [UInt128: Int] = [:]
    /// FOCUS `InvoiceId`, billing period and corrections, by transaction id (`InvoiceFacts`).
    public var invoices = InvoiceFacts()

    public init() {}

    public func location(_ source: SourceLocation) -> String {
        "\(path(of: Int(source.file))):\(source.line)"
    }

    public func path(of file: Int) -> String {
        file >= 0 && file < files.count ? files[file].path : "?"
    }

    /// `file:line`, or `file` where no line means anything.
    public func locationOf(_ failure: FileFailure) -> String {
        let path = path(of: failure.file)
        guard let line = failure.line, line > 0 else { return path }
        return "\(path):\(line)"
    }

    /// `file:line: reason`, or `file: reason` where no line means anything.
    public func describe(_ failure: FileFailure) -> String {
        let path = path(of: failure.file)
        guard let line = failure.line, line > 0 else { return "\(path): \(failure.reason)" }
        return "\(path):\(line): \(failure.reason)"
    }

    /// A file of this kind was in the run, even one without rows (SPEC §3: a clients file with a
    /// header and no rows still means the run has clients records).
    public func hasFile(of kind: RecordKind) -> Bool {
        files.contains { $0.kinds.contains(kind) }
    }
}


/// Why a whole input file cannot be read (SPEC §3): it stops the run, also with `--allow-rejects`,
/// because going on as if the file had not been given would lose or misplace its records.
public struct FileFailure: Error, Sendable, Equatable {
    /// Index into the run's file list.
    public var file: Int
    /// Where in the file, when a line means something (a refused header, a DOCTYPE).
    public var line: Int?
    public var reason: String

    public init(file: Int, line: Int?, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }
}

/// Where a transaction of a superseding layout stands: its day and the export it came in.
package struct SupersedeEntry: Sendable {
    /// Index into `IngestedExport.transactions`.
    package var transaction: Int
    package var day: ByteKey
    package var version: Instant

    package init(transaction: Int, day: ByteKey, version: Instant) {
        self.transaction = transaction
        self.day = day
        self.version = version
    }
}
