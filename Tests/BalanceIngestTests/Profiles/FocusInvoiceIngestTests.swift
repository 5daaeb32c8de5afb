import Foundation
import Testing
@testable import BalanceTestSupport
@testable import BalanceIngest
@testable import BalanceModel
@testable import BalanceSupport

/// Issue 23, point 2: the focus profile reads each row's invoice (`InvoiceId`, `BillingPeriodStart`,
/// `BillingPeriodEnd`) and `ChargeClass`, where the file has them, beside the transaction table.
@Suite("FOCUS invoices and corrections, as read")
struct FocusInvoiceIngestTests {
    static let header = "BilledCost,BillingAccountId,BillingCurrency,BillingPeriodEnd,BillingPeriodStart,ChargeCategory,ChargeClass,ChargeDescription,ChargePeriodStart,Id,InvoiceId,ServiceName,SubAccountId,SubAccountName"

    static func options() throws -> IngestOptions {
        IngestOptions(profile: try ImportProfile.resolve("focus"), inputOffsetSeconds: nil, renames: [:], encoding: nil).forFile("x.csv")
    }

    static func ingest(_ text: String, name: String = "focus.csv", splitNear: Int? = nil) throws -> IngestedExport {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let path = try scratch.write(name, text)
        if let splitNear {
            // `row_ids: fields` files are read in one go (their ids count identical rows of the
            // file); with the id column a file is split, and so are its invoice facts.
            let yaml = BuiltInProfiles.named("focus")!.yaml.replacingOccurrences(of: "row_ids: fields", with: "row_ids: column")
            let profile = try ImportProfile.parse(yaml, path: "focus-with-ids.yaml")
            let options = IngestOptions(profile: profile, inputOffsetSeconds: nil, renames: [:], encoding: nil).forFile("x.csv")
            var export = IngestedExport()
            export.files.append(InputFile(path: path, format: .csv, kinds: [], records: 0))
            Ingestor.readCSV(path: path, fileIndex: 0, options: options, splitNear: splitNear, into: &export)
            return export
        }
        return Ingestor.ingest(paths: [path], options: try options())
    }

    static func row(_ id: String, cost: String = "1.50", invoice: String = "INV-9", start: String = "2024-09-01T00:00:00Z",
                    end: String = "2024-10-01T00:00:00Z", chargeClass: String = "NULL", description: String = "Usage",
                    charged: String = "2024-09-05T10:00:00Z") -> String {
        "\(cost),acct-a,USD,\(end),\(start),Usage,\(chargeClass),\(description),\(charged),\(id),\(invoice),Compute,sub-1,Sub One"
    }

    func transaction(_ export: IngestedExport, _ id: String) throws -> Transaction {
        try #require(export.transactions.first { $0.id == id })
    }

    @Test("InvoiceId and the billing period are read into the side table, by transaction id")
    func readsInvoice() throws {
        let export = try Self.ingest([Self.header, Self.row("r-1"), Self.row("r-2", invoice: "INV-8")].joined(separator: "\n") + "\n")
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        let fact = try #require(export.invoices.fact(id: "r-1"))
        #expect(fact.invoiceID == "INV-9")
        #expect(fact.billingPeriodStart.map(MoscowTime.isoText) == "2024-09-01T03:00:00+03:00")
        #expect(fact.billingPeriodEnd.map(MoscowTime.isoText) == "2024-10-01T03:00:00+03:00")
        #expect(!fact.isCorrection)
        #expect(export.invoices.fact(id: "r-2")?.invoiceID == "INV-8")
        #expect(export.invoices.hasInvoices)
    }

    @Test("snake_case column ids are read as well")
    func snakeCase() throws {
        let header = "billed_cost,billing_account_id,billing_currency,billing_period_end,billing_period_start,charge_category,charge_class,charge_description,charge_period_start,id,invoice_id,service_name,sub_account_id,sub_account_name"
        let export = try Self.ingest([header, Self.row("r-1", chargeClass: "correction", charged: "2024-08-20T00:00:00Z")].joined(separator: "\n") + "\n")
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        let fact = try #require(export.invoices.fact(id: "r-1"))
        #expect(fact.invoiceID == "INV-9")
        #expect(fact.isCorrection)
    }

    @Test("a correction of an earlier period is booked at its billing period start and described as such")
    func correctionOfAnEarlierPeriod() throws {
        let export = try Self.ingest([Self.header, Self.row("c-1", chargeClass: "Correction", description: "Late usage",
                                                            charged: "2024-08-20T00:00:00Z")].joined(separator: "\n") + "\n")
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        let transaction = try transaction(export, "c-1")
        #expect(MoscowTime.isoText(transaction.instant) == "2024-09-01T03:00:00+03:00")
        #expect(transaction.description == "Correction of 2024-08 (charge period from 2024-08-20T03:00:00+03:00): Late usage")
        let fact = try #require(export.invoices.fact(id: "c-1"))
        #expect(fact.correctionOf.map(MoscowTime.isoText) == "2024-08-20T03:00:00+03:00")
    }

    @Test("a correction of the last UTC hours of August corrects August, though it is 1 September in Moscow")
    func correctionAtTheMonthEdge() throws {
        let export = try Self.ingest([Self.header, Self.row("c-1", chargeClass: "Correction", description: "Edge",
                                                            charged: "2024-08-31T22:00:00Z")].joined(separator: "\n") + "\n")
        #expect(try transaction(export, "c-1").description == "Correction of 2024-08 (charge period from 2024-09-01T01:00:00+03:00): Edge")
        #expect(export.invoices.fact(id: "c-1")?.correctedMonth == "2024-08")
        #expect(MoscowTime.isoText(try transaction(export, "c-1").instant) == "2024-09-01T03:00:00+03:00")
    }

    @Test("a correction without a description still says what it corrects")
    func correctionWithoutDescription() throws {
        let export = try Self.ingest([Self.header, Self.row("c-1", chargeClass: "Correction", description: "NULL",
                                                            charged: "2024-07-15T00:00:00Z")].joined(separator: "\n") + "\n")
        #expect(try transaction(export, "c-1").description == "Correction of 2024-07 (charge period from 2024-07-15T03:00:00+03:00)")
    }

    @Test("a correction inside its own billing period, and a usage row before it, stay where they are")
    func correctionInsideItsPeriod() throws {
        let export = try Self.ingest([Self.header,
                                      Self.row("c-1", chargeClass: "Correction", description: "Same month", charged: "2024-09-16T00:00:00Z"),
                                      Self.row("u-1", description: "Usage of August on the September invoice", charged: "2024-08-31T21:30:00Z")]
            .joined(separator: "\n") + "\n")
        #expect(MoscowTime.isoText(try transaction(export, "c-1").instant) == "2024-09-16T03:00:00+03:00")
        #expect(try transaction(export, "c-1").description == "Same month")
        #expect(export.invoices.fact(id: "c-1")?.isCorrection == false)
        #expect(MoscowTime.isoText(try transaction(export, "u-1").instant) == "2024-09-01T00:30:00+03:00")
    }

    @Test("a row with a null InvoiceId has no fact; a file without the columns has none at all")
    func withoutInvoice() throws {
        let export = try Self.ingest([Self.header, Self.row("r-1", invoice: "NULL")].joined(separator: "\n") + "\n")
        #expect(export.transactions.count == 1)
        #expect(export.invoices.isEmpty)
        let plain = Ingestor.ingest(paths: try BuiltInProfileTests.fixtures("focus-1.0"), options: try Self.options())
        #expect(plain.rejections.isEmpty && !plain.transactions.isEmpty)
        #expect(plain.invoices.isEmpty)
    }

    @Test("a correction without InvoiceId is still booked on its billing period, with no invoice named")
    func correctionWithoutInvoice() throws {
        let export = try Self.ingest([Self.header, Self.row("c-1", invoice: "NULL", chargeClass: "Correction",
                                                            charged: "2024-08-20T00:00:00Z")].joined(separator: "\n") + "\n")
        #expect(MoscowTime.isoText(try transaction(export, "c-1").instant) == "2024-09-01T03:00:00+03:00")
        let fact = try #require(export.invoices.fact(id: "c-1"))
        #expect(fact.invoiceID.isEmpty && fact.isCorrection)
        #expect(!export.invoices.hasInvoices)
    }

    @Test("the two halves of a file read on two cores keep every row's invoice")
    func splitRead() throws {
        var lines = [Self.header]
        for index in 0..<400 { lines.append(Self.row(String(format: "r-%04d", index), invoice: "INV-\(index % 7)")) }
        let text = lines.joined(separator: "\n") + "\n"
        let split = try Self.ingest(text, splitNear: text.utf8.count / 2)
        #expect(split.transactions.count == 400)
        #expect(split.invoices.count == 400)
        for index in 0..<400 {
            #expect(split.invoices.fact(id: String(format: "r-%04d", index))?.invoiceID == "INV-\(index % 7)")
        }
    }

    @Test("consecutive rows of one invoice share one fact; another billing period or invoice is a new one")
    func interned() throws {
        let export = try Self.ingest([Self.header, Self.row("r-1"), Self.row("r-2"), Self.row("r-3"),
                                      Self.row("r-4", end: "2024-10-02T00:00:00Z"), Self.row("r-5", start: "2024-09-02T00:00:00Z"),
                                      Self.row("r-6", invoice: "INV-10"), Self.row("r-7")].joined(separator: "\n") + "\n")
        #expect(export.invoices.count == 7)
        #expect(export.invoices.facts.count == 5)
        #expect(export.invoices.fact(id: "r-3") == export.invoices.fact(id: "r-1"))
        #expect(export.invoices.fact(id: "r-4")?.billingPeriodEnd.map(MoscowTime.isoText) == "2024-10-02T03:00:00+03:00")
        #expect(export.invoices.fact(id: "r-5")?.billingPeriodStart.map(MoscowTime.isoText) == "2024-09-02T03:00:00+03:00")
        #expect(export.invoices.fact(id: "r-6")?.invoiceID == "INV-10")
        #expect(export.invoices.fact(id: "r-7")?.invoiceID == "INV-9")
    }

    @Test("the first of two rows of one id keeps its fact (as the ledger keeps the first)")
    func firstWins() throws {
        var facts = InvoiceFacts()
        facts.record(id: "x", InvoiceFact(invoiceID: "A"))
        facts.record(id: "x", InvoiceFact(invoiceID: "B"))
        var later = InvoiceFacts()
        later.record(id: "x", InvoiceFact(invoiceID: "C"))
        later.record(id: "y", InvoiceFact(invoiceID: "D"))
        facts.merge(later)
        #expect(facts.fact(id: "x")?.invoiceID == "A")
        #expect(facts.fact(id: "y")?.invoiceID == "D")
    }

    @Test("the profile key: invoices: takes its four columns, and refuses any other")
    func profileKey() throws {
        let focus = try ImportProfile.resolve("focus")
        #expect(focus.rowLayout.invoices == InvoiceLayout(id: "InvoiceId", periodStart: "BillingPeriodStart",
                                                          periodEnd: "BillingPeriodEnd", chargeClass: "ChargeClass"))
        #expect(throws: ProfileError.self) { try ImportProfile.parse("invoices:\n  number: InvoiceId\n", path: "p.yaml") }
        #expect(try ImportProfile.parse("invoices:\n  id: Invoice\n", path: "p.yaml").rowLayout.invoices?.id == "Invoice")
    }
}
