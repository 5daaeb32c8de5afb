@testable import BalanceTestSupport
@testable import BalancePipeline
@testable import BalanceSend
@testable import BalanceOutput
@testable import BalanceRender
@testable import BalanceReport
@testable import BalanceIngest
@testable import BalanceModel
@testable import BalanceSupport
import Testing

@Suite("Model: Money")
struct MoneyTests: ModelBuilders {
    // MARK: exact sums

    @Test("three sub-kopeck amounts sum exactly: 0.004167 × 3 = 0.012501")
    func subKopeckSum() {
        let amount = money("0.004167")
        #expect(amount.micros == 4_167)
        let total = amount + amount + amount
        #expect(total.micros == 12_501)
        #expect(total.exactText(decimalMark: ".") == "0.012501")
    }

    @Test("a million micro-units sum to exactly 1.00")
    func millionMicros() {
        let micro = money("0.000001")
        #expect(micro.micros == 1)
        let total = Array(repeating: micro, count: 1_000_000).sum { $0 }
        #expect(total == Money(micros: 1_000_000))
        #expect(total.exactText(decimalMark: ".") == "1.00")
    }

    @Test("sums, differences and negation are exact in both signs")
    func arithmetic() {
        var balance = money("0.10")
        balance -= money("0.30")
        #expect(balance == money("-0.20"))
        #expect(-balance == money("0.20"))
        #expect(balance.isNegative)
        balance += money("0.20")
        #expect(balance == .zero)
        #expect(!balance.isNegative)
        #expect(money("999999999999.999999") + money("0.000001") == money("1000000000000"))
    }

    // MARK: exact text

    @Test("exactText keeps every significant digit and at least two", arguments: [
        (Int128(12_500_000), "12.50"),
        (Int128(4_167), "0.004167"),
        (Int128(-1_500_000), "-1.50"),
        (Int128(0), "0.00"),
        (Int128(-4_167), "-0.004167"),
        (Int128(1), "0.000001"),
        (Int128(100_000_000), "100.00"),
        (Int128(1_230_000), "1.23"),
        (Int128(1_234_500), "1.2345"),
        (Int128(1_000_000_000_000) * 1_000_000, "1000000000000.00"),
    ])
    func exactText(micros: Int128, expected: String) {
        #expect(Money(micros: micros).exactText(decimalMark: ".") == expected)
        #expect(Money(micros: micros).description == expected)
    }

    @Test("exactText with a decimal comma (Excel-for-Russia CSV)")
    func exactTextComma() {
        #expect(money("12.5").exactText(decimalMark: ",") == "12,50")
        #expect(money("-0.004167").exactText(decimalMark: ",") == "-0,004167")
    }

    // MARK: rounding for display

    @Test("roundedKopecks rounds half away from zero", arguments: [
        ("0.005", Int128(1)),
        ("-0.005", Int128(-1)),
        ("0.004999", Int128(0)),
        ("-0.004999", Int128(0)),
        ("2.675", Int128(268)),
        ("-2.675", Int128(-268)),
        ("0.015", Int128(2)),
        ("1.994999", Int128(199)),
        ("1.995", Int128(200)),
        ("0", Int128(0)),
        ("12.50", Int128(1_250)),
        ("-0.000001", Int128(0)),
    ])
    func roundedKopecks(amount: String, kopecks: Int128) {
        #expect(money(amount).roundedKopecks == kopecks)
    }

    // MARK: property: any partition sums to the total

    @Test("the sums of a random partition of random amounts add up to the total", arguments: [UInt64(1), 42, 20_240_301, 0xDEAD_BEEF])
    func partitionSums(seed: UInt64) {
        var random = ModelSplitMix64(seed: seed)
        let count = Int.random(in: 1...400, using: &random)
        var amounts: [Money] = []
        var expectedWhole: Int128 = 0
        var expectedFraction: Int128 = 0
        for _ in 0..<count {
            // Written as an export would write it, so the parser and the sum are both on trial.
            let whole = Int.random(in: 0...1_000_000, using: &random)
            let fraction = Int.random(in: 0...999_999, using: &random)
            var fractionText = String(fraction)
            fractionText = String(repeating: "0", count: 6 - fractionText.count) + fractionText
            amounts.append(money("\(whole).\(fractionText)"))
            expectedWhole += Int128(whole)
            expectedFraction += Int128(fraction)
        }
        let expected = Money(micros: expectedWhole * 1_000_000 + expectedFraction)

        let parts = Int.random(in: 1...min(count, 17), using: &random)
        var groups = Array(repeating: [Money](), count: parts)
        for amount in amounts.shuffled(using: &random) {
            groups[Int.random(in: 0..<parts, using: &random)].append(amount)
        }
        let partial = groups.map { group in group.sum { $0 } }
        #expect(partial.sum { $0 } == expected)
        #expect(amounts.sum { $0 } == expected)
        #expect(amounts.reversed().reduce(Money.zero, +) == expected)
    }
}
