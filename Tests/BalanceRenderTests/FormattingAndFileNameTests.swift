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

@Suite struct FormattingTests {
    static let nbsp = "\u{00A0}"

    @Test(arguments: [
        ("1234.56", "1\u{00A0}234,56\u{00A0}₽"),
        // Under half a kopeck a non-zero amount is written exactly: never a silent 0,00.
        ("0.004999", "0,004999\u{00A0}₽"),
        ("-0.004167", "\u{2212}0,004167\u{00A0}₽"),
        ("-0.000001", "\u{2212}0,000001\u{00A0}₽"),
        ("0.005", "0,01\u{00A0}₽"),
        ("-0.005", "\u{2212}0,01\u{00A0}₽"),
        ("2.675", "2,68\u{00A0}₽"),
        ("1234567.994999", "1\u{00A0}234\u{00A0}567,99\u{00A0}₽"),
        ("999.995", "1\u{00A0}000,00\u{00A0}₽"),
        ("-1500", "\u{2212}1\u{00A0}500,00\u{00A0}₽"),
        ("0", "0,00\u{00A0}₽"),
    ])
    func russianAmountsRoundHalfAwayFromZero(input: String, expected: String) throws {
        #expect(Formatting.russianAmount(try AmountParser.parse(input, mark: .point, allowNegative: true), currency: "RUB") == expected)
    }

    @Test func csvAmountsAreExact() throws {
        let money = try AmountParser.parse("-1234.004167", mark: .point, allowNegative: true)
        #expect(Formatting.csvAmount(money, dialect: .standard) == "-1234.004167")
        #expect(Formatting.csvAmount(money, dialect: .excelRU) == "-1234,004167")
        #expect(Formatting.csvAmount(try AmountParser.parse("12.5", mark: .point), dialect: .standard) == "12.50")
    }

    @Test func russianDatesAreMoscowTime() throws {
        #expect(Formatting.russianDateTime(try TimestampParser.parse("2024-02-29T21:15:00Z")) == "01.03.2024 00:15")
        #expect(Formatting.russianDate(CivilDate(year: 2024, month: 3, day: 1)) == "01.03.2024")
    }
}

@Suite struct FileNameTests {
    @Test(arguments: ["cl-1001", "ACME_01", "a.b", "x"])
    func safeIDsAreKept(id: String) {
        #expect(FileNames.safeName(for: id) == id)
    }

    /// HOSTILE-CHECKLIST #15: nothing an id says can leave its folder.
    @Test(arguments: ["../x", "../../etc/x", "a/b", ".", "..", "", "CON", "con.txt", "LPT1", "-rf", "_x", "a\0b", "a b", "Клиент", String(repeating: "x", count: 300), String(repeating: "я", count: 5000)])
    func unsafeIDsAreEncoded(id: String) {
        let name = FileNames.safeName(for: id)
        #expect(name != id)
        #expect(name.hasPrefix("_"))
        #expect(!name.contains("/") && !name.contains("\0") && name != "." && name != "..")
        #expect(name.utf8.count <= 130)
        #expect(name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == UInt8(ascii: "_") })
    }

    @Test func encodingIsInjectiveForShortIDsAndStable() {
        #expect(FileNames.safeName(for: "a/b") == "_612f62")
        #expect(FileNames.safeName(for: "a/b") != FileNames.safeName(for: "a_b"))
        let long = String(repeating: "x", count: 300)
        #expect(FileNames.safeName(for: long) == FileNames.safeName(for: long))
        #expect(FileNames.safeName(for: long) != FileNames.safeName(for: long + "y"))
    }
}
