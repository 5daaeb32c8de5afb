/// The names of the files a run writes (SPEC §4), in one place: the renderer writes them, the
/// output folder checks them, `--compare-with` and `merge-parts` read them back, `send` sends one.
public enum OutputFiles {
    /// The run summary, beside the partner folders.
    public static let summary = "summary.json"
    /// With `--allow-rejects`: every rejected record, `file:line: reason`.
    public static let rejects = "rejects.csv"
    /// Clients that transactions name and no clients record does.
    public static let unknownClients = "unknown-clients.csv"
    /// The run's own files: no partner folder may take one of these names.
    public static let runFiles = [summary, rejects, unknownClients]

    /// In each partner folder `P/`.
    public static let index = "index.html"
    public static let snapshotPage = "snapshot.html"
    public static let snapshot = "snapshot.csv"
    public static let services = "services.csv"
    public static let daily = "daily.csv"
    /// With a comparison (`--compare previous`, `--compare-with`).
    public static let changes = "changes.csv"
    /// When the rows name invoices (FOCUS `InvoiceId`): each invoice beside the period.
    public static let invoices = "invoices.csv"
    /// With `--eml`: the partner's message.
    public static let message = "report.eml"
    /// With `--xlsx`: the snapshot, services and daily tables as workbooks.
    public static let snapshotWorkbook = "snapshot.xlsx"
    public static let servicesWorkbook = "services.xlsx"
    public static let dailyWorkbook = "daily.xlsx"
    /// The folder of each client's two pages (`clients/<client_id>.html` and `.csv`).
    public static let clientsFolder = "clients"

    /// `P/clients/<client>.<ext>`, with both names already made safe (`FileNames.safeName`).
    public static func clientPage(partnerFolder: String, clientFile: String, ext: String) -> String {
        "\(partnerFolder)/\(clientsFolder)/\(clientFile).\(ext)"
    }
}
