import Testing
@testable import BalanceTestSupport
@testable import BalancePipeline
@testable import BalanceSend
@testable import BalanceOutput
@testable import BalanceRender
@testable import BalanceReport
@testable import BalanceIngest
@testable import BalanceModel
@testable import BalanceSupport

/// Issue 9, money as precise as the bill: twelve fractional digits exact, a thirteenth refused,
/// zero a real line, signed amounts only where a profile declares them, null tokens read as empty.
@Suite("Money to twelve digits, zero and signed amounts, null tokens")
struct TwelveDigitMoneyTests {
    static let header = "id,timestamp,client_id,type,service,amount,currency,description\n"

    @Test("twelve fractional digits read exactly; the CSV form keeps them, unpadded; a thirteenth is refused", arguments: [
        ("0.00000080000", "0.0000008"), ("1.123456789012", "1.123456789012"), ("15678.876544", "15678.876544"),
        ("5", "5.00"), ("0.1", "0.10"), ("-0.000000000001", "-0.000000000001"),
    ])
    func twelveDigits(_ text: String, _ exact: String) throws {
        let money = try AmountParser.parse(text, mark: .point, allowNegative: true)
        #expect(money.description == exact)
        #expect(try AmountParser.parse(money.description, mark: .point, allowNegative: true) == money)
        #expect(throws: FieldError.self) { try AmountParser.parse(text.contains(".") ? text + "1" + String(repeating: "0", count: 12) : text + ".1234567890123", mark: .point, allowNegative: true) }
    }

    @Test("sums of twelve-digit amounts are exact: 0.000000000001 × 10⁶ = 0.000001")
    func exactSums() throws {
        let tiny = try AmountParser.parse("0.000000000001", mark: .point)
        let total = (0..<1_000_000).reduce(Money.zero) { sum, _ in sum + tiny }
        #expect(total.description == "0.000001")
        #expect(total.roundedKopecks == 0)
    }

    @Test("HTML rounds half away from zero to kopecks at the twelfth digit too", arguments: [
        ("0.004999999999", 0), ("0.005", 1), ("-0.005", -1), ("-0.004999999999", 0), ("1234.565", 123_457),
    ])
    func kopecks(_ text: String, _ kopecks: Int128) throws {
        #expect(try AmountParser.parse(text, mark: .point, allowNegative: true).roundedKopecks == kopecks)
    }

    @Test("a zero amount is a real line: accepted, counted, kept")
    func zeroAmount() throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let path = try scratch.write("t.csv", Self.header + "t1,2024-03-01 10:00:00,c1,charge,VM,0,,free tier\n")
        let export = Ingestor.ingest(paths: [path], options: IngestOptions())
        #expect(export.rejections.isEmpty)
        #expect(export.transactions.map(\.amount) == [Money.zero])
        #expect(export.transactions.map(\.kind) == [.charge])
    }

    @Test("negative amounts: refused in the native layout, a refund (or a charge) of the absolute value where a profile signs them")
    func signedAmounts() throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        let text = Self.header + "t1,2024-03-01 10:00:00,c1,charge,VM,-2.5,,credit\n" + "t2,2024-03-01 10:00:00,c1,refund,VM,-1,,\n"
            + "t3,2024-03-01 10:00:00,c1,topup,,-1,,\n"
        let path = try scratch.write("t.csv", text)
        let native = Ingestor.ingest(paths: [path], options: IngestOptions())
        #expect(native.transactions.isEmpty)
        #expect(native.rejections.map(\.reason) == ["amount must be positive", "amount must be positive", "amount must be positive"])
        var options = IngestOptions()
        options.signedAmounts = true
        let signed = Ingestor.ingest(paths: [path], options: options)
        #expect(signed.transactions.map(\.kind) == [.refund, .charge])
        #expect(signed.transactions.map(\.amount.description) == ["2.50", "1.00"])
        #expect(signed.rejections.map(\.reason) == ["a topup cannot be negative"])
        #expect(signed.rejections.map(\.amount) == [try AmountParser.parse("1", mark: .point)])
    }

    @Test("null tokens read as empty fields, in CSV and XML")
    func nullTokens() throws {
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        var options = IngestOptions()
        options.nullTokens = [Array("NULL".utf8), Array("\\N".utf8)]
        let csv = try scratch.write("t.csv", Self.header + "t1,2024-03-01 10:00:00,c1,topup,NULL,5,\\N,NULL\n")
        let xml = try scratch.write("t.xml", "<export><transactions><transaction id=\"t2\" timestamp=\"2024-03-01 10:00:00\" client_id=\"c1\" type=\"topup\" service=\"NULL\" amount=\"5\" currency=\"\\N\"/></transactions></export>")
        let export = Ingestor.ingest(paths: [csv, xml], options: options)
        #expect(export.rejections.isEmpty, "\(export.rejections)")
        #expect(export.transactions.map(\.service) == ["", ""])
        #expect(export.transactions.map(\.currency) == ["RUB", "RUB"])
        #expect(export.transactions.map(\.description) == ["", ""])
        // Without the tokens, NULL is a service, and a topup may not have one.
        #expect(Ingestor.ingest(paths: [csv], options: IngestOptions()).rejections.map(\.reason) == ["a topup must have an empty service"])
    }
}
