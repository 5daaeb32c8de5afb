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

/// HOSTILE-CHECKLIST #5: the amount parser is exact and strict (no `Decimal(string:)` leniency).
@Suite("AmountParser")
struct IngestAmountParserTests {
    struct Accepted: Sendable, CustomTestStringConvertible {
        var text: String
        var mark: DecimalMark
        var micros: Int128
        var testDescription: String { "\"\(text)\" \(mark) → \(micros)" }
    }

    static let accepted: [Accepted] = [
        Accepted(text: "1234.50", mark: .point, micros: 1_234_500_000),
        Accepted(text: "1234.50", mark: .pointOrComma, micros: 1_234_500_000),
        Accepted(text: "0.004167", mark: .point, micros: 4_167),
        Accepted(text: "12.345678", mark: .point, micros: 12_345_678),
        Accepted(text: "0.000001", mark: .point, micros: 1),
        Accepted(text: "5", mark: .point, micros: 5_000_000),
        Accepted(text: "0", mark: .point, micros: 0),
        Accepted(text: "007.5", mark: .point, micros: 7_500_000),
        Accepted(text: "1234,50", mark: .pointOrComma, micros: 1_234_500_000),
        Accepted(text: "1,5", mark: .pointOrComma, micros: 1_500_000),
        Accepted(text: "1 234,56", mark: .pointOrComma, micros: 1_234_560_000),
        Accepted(text: "1\u{00A0}234,56", mark: .pointOrComma, micros: 1_234_560_000),
        Accepted(text: "12\u{00A0}345\u{00A0}678,000001", mark: .pointOrComma, micros: 12_345_678_000_001),
        Accepted(text: "1 234 567.5", mark: .point, micros: 1_234_567_500_000),
        Accepted(text: "999 999", mark: .point, micros: 999_999_000_000),
        // The cap itself is accepted: one trillion units.
        Accepted(text: "1000000000000", mark: .point, micros: 1_000_000_000_000_000_000),
        Accepted(text: "999999999999.999999", mark: .point, micros: 999_999_999_999_999_999),
    ]

    @Test("accepts exact decimal amounts", arguments: accepted)
    func acceptsExactAmounts(_ sample: Accepted) throws {
        let money = try AmountParser.parse(sample.text, mark: sample.mark)
        #expect(money.micros == sample.micros)
        // Negatives allowed or not makes no difference to a positive amount.
        #expect(try AmountParser.parse(sample.text, mark: sample.mark, allowNegative: true).micros == sample.micros)
    }

    struct Rejected: Sendable, CustomTestStringConvertible {
        var text: String
        var mark: DecimalMark
        /// A part of the expected message, when the case has a specific one.
        var reason: String? = nil
        var testDescription: String { "\"\(text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined())\" \(mark)" }
    }

    static let rejected: [Rejected] = [
        Rejected(text: "12abc", mark: .point, reason: "not a number"),
        Rejected(text: "1.2.3", mark: .point),
        Rejected(text: "1.2.3", mark: .pointOrComma),
        Rejected(text: "1e5", mark: .point),
        Rejected(text: "1E5", mark: .point),
        Rejected(text: " 5", mark: .point),
        Rejected(text: "5 ", mark: .point),
        Rejected(text: "5\u{00A0}", mark: .pointOrComma),
        Rejected(text: "\u{00A0}5", mark: .pointOrComma),
        Rejected(text: "--1", mark: .point),
        Rejected(text: "-1", mark: .point, reason: "positive"),
        Rejected(text: "-0.5", mark: .pointOrComma, reason: "positive"),
        Rejected(text: "+5", mark: .point),
        Rejected(text: "", mark: .point, reason: "empty"),
        Rejected(text: "NaN", mark: .point),
        Rejected(text: "inf", mark: .point),
        Rejected(text: "0x10", mark: .point),
        Rejected(text: "1.1234567890123", mark: .point, reason: "more than 12 fractional digits"),
        Rejected(text: "1,1234567890123", mark: .pointOrComma, reason: "more than 12 fractional digits"),
        Rejected(text: "1,5", mark: .point),
        Rejected(text: "1234,50", mark: .point),
        Rejected(text: "1.234,56", mark: .point),
        Rejected(text: "1.234,56", mark: .pointOrComma),
        Rejected(text: "1,234.56", mark: .pointOrComma),
        Rejected(text: "12 34", mark: .point, reason: "digit group"),
        Rejected(text: "1234 567", mark: .point, reason: "digit group"),
        Rejected(text: "1 23 456", mark: .point),
        Rejected(text: "1  234", mark: .point),
        Rejected(text: "1 234 ", mark: .point),
        Rejected(text: "1 2345", mark: .point),
        Rejected(text: "1 23,45", mark: .pointOrComma),
        Rejected(text: "1 234.5 ", mark: .point),
        // U+00A9 is C2 A9 in UTF-8: the C2 lead byte of a no-break space must be followed by A0.
        Rejected(text: "1\u{00A9}234", mark: .point),
        // A narrow no-break space is not a grouping this product reads.
        Rejected(text: "1\u{202F}234", mark: .point),
        Rejected(text: ".5", mark: .point),
        Rejected(text: ",5", mark: .pointOrComma),
        Rejected(text: "5.", mark: .point),
        Rejected(text: "-", mark: .point),
        Rejected(text: "１２", mark: .point),  // full-width digits
        Rejected(text: "10000000000000", mark: .point, reason: "too large"),
        Rejected(text: "1000000000000.000001", mark: .point, reason: "too large"),
        Rejected(text: "99999999999999999999999999999999999999999", mark: .point, reason: "too large"),
    ]

    @Test("rejects anything that is not a plain decimal", arguments: rejected)
    func rejectsNonAmounts(_ sample: Rejected) {
        let error = #expect(throws: FieldError.self) {
            try AmountParser.parse(sample.text, mark: sample.mark)
        }
        if let reason = sample.reason {
            #expect(error?.message.contains(reason) == true, "message was \(error?.message ?? "-")")
        }
    }

    @Test("negative amounts are read when allowed (balances)", arguments: [
        ("-15.5", DecimalMark.point, Int128(-15_500_000)),
        ("-0.000001", .point, -1),
        ("-1 234,56", .pointOrComma, -1_234_560_000),
        ("-1000000000000", .point, -1_000_000_000_000_000_000),
        ("-0", .point, 0),
    ])
    func negativeWhenAllowed(_ text: String, _ mark: DecimalMark, _ micros: Int128) throws {
        #expect(try AmountParser.parse(text, mark: mark, allowNegative: true).micros == micros)
    }

    @Test("a sign is still strict when negatives are allowed", arguments: ["--1", "-", "- 5", "-+5", "+-5", "-1-", "-10000000000000"])
    func strictSignWhenNegativeAllowed(_ text: String) {
        #expect(throws: FieldError.self) { try AmountParser.parse(text, mark: .point, allowNegative: true) }
    }

    @Test("every amount written exactly reads back exactly (seeded property)")
    func roundTripThroughMoneyDescription() throws {
        var random = IngestRandom(seed: 0xA11CE)
        for _ in 0..<5_000 {
            // Up to a trillion units with all twelve fractional digits.
            let picos = Int128(random.next() % 1_000_000_000_000) * 1_000_000_000_000 + Int128(random.next() % 1_000_000_000_000) + 1
            let money = Money(picos: picos)
            // `description` is the exact CSV form: `.` mark, at least two fraction digits.
            #expect(try AmountParser.parse(money.description, mark: .point).picos == picos)
            let comma = money.exactText(decimalMark: ",")
            #expect(try AmountParser.parse(comma, mark: .pointOrComma).picos == picos)
            #expect(throws: FieldError.self) { try AmountParser.parse(comma, mark: .point) }
            #expect(try AmountParser.parse("-" + money.description, mark: .point, allowNegative: true).picos == -picos)
            // Grouped with spaces and with no-break spaces, as Russian spreadsheets write it.
            let whole = String(picos / Money.scale)
            var groups: [String] = []
            var end = whole.endIndex
            while end > whole.startIndex {
                let start = whole.index(end, offsetBy: -3, limitedBy: whole.startIndex) ?? whole.startIndex
                groups.insert(String(whole[start..<end]), at: 0)
                end = start
            }
            let fraction = comma[comma.index(after: comma.firstIndex(of: ",")!)...]
            for separator in [" ", "\u{00A0}"] {
                let grouped = groups.joined(separator: separator) + "," + fraction
                #expect(try AmountParser.parse(grouped, mark: .pointOrComma).picos == picos, "\(grouped)")
            }
        }
    }

    @Test("the byte-level entry point agrees with the String one")
    func bytesEntryPoint() throws {
        let bytes: [UInt8] = Array("1 234,5".utf8)
        let money = try bytes.withUnsafeBufferPointer { (buffer) throws(FieldError) -> Money in
            try AmountParser.parse(buffer, mark: .pointOrComma, allowNegative: false)
        }
        #expect(money.micros == 1_234_500_000)
        // A lone C2 byte at the very end must not read past the buffer.
        let truncated: [UInt8] = [0x31, 0xC2]
        #expect(throws: FieldError.self) {
            try truncated.withUnsafeBufferPointer { (buffer) throws(FieldError) -> Money in
                try AmountParser.parse(buffer, mark: .point, allowNegative: false)
            }
        }
    }
}
