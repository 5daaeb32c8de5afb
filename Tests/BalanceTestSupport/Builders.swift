import BalancePipeline
import BalanceSend
import BalanceOutput
import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
import Testing

/// The files of the in-memory exports the Model and Report tests build: record sources index these.
enum ModelTestFile {
    static let transactions = 0
    static let clients = 1
    static let events = 2
    /// A second transactions export (overlapping exports, duplicates across files).
    static let moreTransactions = 3
    static let paths = ["transactions-a.csv", "clients.csv", "events.csv", "transactions-b.csv"]
    static let kinds: [[RecordKind]] = [[.transaction], [.client], [.event], [.transaction]]
}

/// Small builders for Model and Report inputs. A suite conforms to get them as members, so the short
/// names (`tx`, `ev`, …) never clash with helpers other suites of the test target define.
protocol ModelBuilders {}

extension ModelBuilders {
    /// An amount as an export writes it (`"10.50"`), read by the product's own parser.
    func money(_ text: String) -> Money {
        do {
            return try AmountParser.parse(text, mark: .point, allowNegative: true)
        } catch {
            Issue.record("test amount '\(text)' does not parse: \(error)")
            return .zero
        }
    }

    /// A timestamp as an export writes it, read by the product's own parser (naive forms in +03:00).
    func at(_ text: String) -> Instant {
        do {
            return try TimestampParser.parse(text)
        } catch {
            Issue.record("test timestamp '\(text)' does not parse: \(error)")
            return Instant(seconds: 0)
        }
    }

    /// `YYYY-MM-DD`.
    func day(_ text: String) -> CivilDate {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else {
            Issue.record("test date '\(text)' is not YYYY-MM-DD")
            return CivilDate(year: 1970, month: 1, day: 1)
        }
        return CivilDate(year: parts[0], month: parts[1], day: parts[2])
    }

    func source(_ file: Int, _ line: Int) -> BalanceModel.SourceLocation {
        BalanceModel.SourceLocation(file: file, line: line)
    }

    /// A transaction; `line: 0` lets `export(…)` number it.
    func tx(_ id: String, _ time: String, client: String, _ kind: TransactionKind, service: String = "",
            _ amount: String, currency: String = "RUB", description: String = "",
            file: Int = ModelTestFile.transactions, line: Int = 0) -> Transaction {
        Transaction(id: id, instant: at(time), clientID: client, kind: kind, service: service, amount: money(amount),
                    currency: currency, description: description, source: source(file, line))
    }

    /// A clients record of partner `p1` unless told otherwise.
    func clientRecord(_ id: String, partner: String = "p1", name: String? = nil, balance: String? = nil,
                      balanceAt: String? = nil, balanceCurrency: String? = nil, file: Int = ModelTestFile.clients, line: Int = 0) -> ClientRecord {
        var checkpoint: BalanceCheckpoint? = nil
        if let balance, let balanceAt { checkpoint = BalanceCheckpoint(balance: money(balance), at: at(balanceAt), currency: balanceCurrency) }
        return ClientRecord(id: id, name: name ?? "Client \(id)", email: "\(id)@example.com", phone: "",
                            partnerID: partner, checkpoint: checkpoint, source: source(file, line))
    }

    func ev(_ client: String, _ time: String, _ kind: ClientEventKind,
            file: Int = ModelTestFile.events, line: Int = 0) -> ClientEvent {
        ClientEvent(clientID: client, instant: at(time), kind: kind, source: source(file, line))
    }

    /// An export as Ingest would hand it over: every record with line 0 gets the next line of its
    /// file (from 2, after the header), and each file's record count is what it holds, rejections included.
    func export(_ transactions: [Transaction] = [], clients: [ClientRecord] = [], events: [ClientEvent] = [],
                rejections: [Rejection] = []) -> IngestedExport {
        var nextLine: [Int32: Int32] = [:]
        var records: [Int32: Int] = [:]
        func place(_ location: inout BalanceModel.SourceLocation) {
            if location.line == 0 {
                location.line = nextLine[location.file, default: 2]
                nextLine[location.file] = location.line + 1
            }
            records[location.file, default: 0] += 1
        }
        var result = IngestedExport()
        result.transactions = TransactionTable(transactions.map { var t = $0; place(&t.source); return t })
        result.clients = clients.map { var c = $0; place(&c.source); return c }
        result.events = events.map { var e = $0; place(&e.source); return e }
        result.rejections = rejections
        for rejection in rejections where rejection.isRecord { records[rejection.source.file, default: 0] += 1 }
        result.files = ModelTestFile.paths.indices.map { index in
            // A file is in the run only when it holds a record (a clients file without rows would
            // still make a run with clients records: SPEC §3).
            InputFile(path: ModelTestFile.paths[index], format: .csv,
                      kinds: records[Int32(index), default: 0] > 0 ? ModelTestFile.kinds[index] : [],
                      records: records[Int32(index), default: 0])
        }
        return result
    }

    /// The report of `period` over an export, through the product's Model and Report stages.
    func runReport(_ export: IngestedExport, period: String = "2024-03") throws -> RunReport {
        let ledger = Ledger.build(from: export)
        return ReportBuilder.build(ledger: ledger, export: export, period: try ReportPeriod.parse(period))
    }

    func partner(_ report: RunReport, _ id: String = "p1",
                 sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> PartnerReport {
        try #require(report.partners.first { $0.partnerID == id }, "no report for partner \(id)",
                     sourceLocation: sourceLocation)
    }

    func clientReport(_ report: RunReport, _ client: String, partner id: String = "p1",
                      sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> ClientReport {
        let partnerReport = try partner(report, id, sourceLocation: sourceLocation)
        return try #require(partnerReport.clients.first { $0.client.id == client },
                            "partner \(id) does not list client \(client)", sourceLocation: sourceLocation)
    }

    /// A movement from amounts written as text: opening, top-ups, charges, refunds, unattached change, closing.
    func movement(_ opening: String, topups: String = "0", charges: String = "0", refunds: String = "0",
                  unattached: String = "0", _ closing: String) -> BalanceMovement {
        var m = BalanceMovement()
        m.opening = money(opening)
        m.topups = money(topups)
        m.charges = money(charges)
        m.refunds = money(refunds)
        m.unattachedChange = money(unattached)
        m.closing = money(closing)
        return m
    }

    func spend(_ service: String, charged: String, refunded: String = "0") -> ServiceSpend {
        var s = ServiceSpend(service: service)
        s.charged = money(charged)
        s.refunded = money(refunded)
        return s
    }

    func daily(_ date: String, _ service: String, _ net: String) -> DailySpend {
        DailySpend(date: day(date), service: service, net: money(net))
    }
}

/// SplitMix64: a tiny seeded generator, so property-style tests are reproducible.
struct ModelSplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A small seeded generator (SplitMix64), so property tests are repeatable.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
