import Foundation
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

/// Replays every input kept in `Fixtures/fuzz-regressions/` (named `TARGET-…`) through the same
/// code and the same checks as the libFuzzer targets in `Fuzz/FuzzTargets.swift`, so a crash the
/// fuzzer once found stays fixed in the normal test run.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static var folder: URL {
        get throws { try IngestFixtures.root.appendingPathComponent("fuzz-regressions") }
    }

    static var inputs: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: (try? folder.path) ?? "")) ?? []
        return names.filter { !$0.hasSuffix(".md") }.sorted()
    }

    @Test("every kept input names its target")
    func namesAreKnown() throws {
        #expect(!Self.inputs.isEmpty)
        for name in Self.inputs {
            #expect(["csv", "xml", "timestamp", "amount"].contains(String(name.prefix { $0 != "-" })), "\(name)")
        }
    }

    @Test("each kept input runs through its target without a crash and keeps the invariants", arguments: inputs)
    func replay(_ name: String) throws {
        let bytes = try Array(Data(contentsOf: try Self.folder.appendingPathComponent(name)))
        let target = String(name.prefix { $0 != "-" })
        let scratch = try IngestScratch()
        defer { scratch.remove() }
        try bytes.withUnsafeBufferPointer { data in
            switch target {
            case "csv": try Self.csv(data, scratch)
            case "xml": Self.check(Ingestor.ingest(paths: [try scratch.write("in.xml", bytes: Array(data))], options: IngestOptions()))
            case "timestamp": Self.timestamp(data)
            case "amount": Self.amount(data)
            default: Issue.record("unknown target \(target)")
            }
        }
    }

    // The targets' bodies, as in Fuzz/FuzzTargets.swift (with #expect for precondition).

    static func check(_ export: IngestedExport) {
        for transaction in export.transactions {
            #expect(transaction.amount.picos >= 0 && transaction.amount.picos <= AmountParser.maxPicos)
            #expect(!transaction.id.isEmpty && !transaction.clientID.isEmpty)
        }
        #expect(export.rejections.allSatisfy { $0.source.line >= 0 })
        #expect(export.files.count == 1 && export.files[0].records >= 0)
        _ = Ledger.build(from: export)
    }

    static func csv(_ data: UnsafeBufferPointer<UInt8>, _ scratch: IngestScratch) throws {
        guard let settings = data.first else { return }
        var options = IngestOptions(naiveOffsetSeconds: settings & 0x40 != 0 ? 0 : MoscowTime.offsetSeconds,
                                    mapping: HeaderMapping(["Сумма": "amount", "Дата": "timestamp"]))
        options.encoding = settings & 1 != 0 ? .windows1251 : .utf8
        options.decimalMark = [nil, .point, .pointOrComma, .comma][Int(settings >> 1 & 3)]
        if settings & 8 != 0 { options.delimiter = settings & 0x80 != 0 ? 0x09 : UInt8(ascii: ";") }
        if settings & 16 != 0 { options.timestampFormat = try? TimestampFormat("DD.MM.YYYY HH:MM") }
        if settings & 32 != 0 { options.values = ValueMaps(transactionTypes: ["Пополнение": "topup", "x": "charge"], eventTypes: ["y": "removed"], currencies: ["руб.": "RUB"]) }
        let path = try scratch.write("in.csv", bytes: Array(data.dropFirst()))
        check(Ingestor.ingest(paths: [path], options: options))
    }

    static func timestamp(_ data: UnsafeBufferPointer<UInt8>) {
        if let instant = try? TimestampParser.parse(data, naiveOffsetSeconds: MoscowTime.offsetSeconds) {
            #expect((try? TimestampParser.parse(MoscowTime.isoText(instant))) == instant)
        }
        for pattern in ["DD.MM.YYYY HH:MM", "YYYYMMDD", "MM/DD/YYYY HH:mm:ss"] {
            _ = try? TimestampParser.parse(data, naiveOffsetSeconds: 0, format: try! TimestampFormat(pattern))
        }
        if let pattern = String(validating: data, as: UTF8.self), let format = try? TimestampFormat(pattern) {
            _ = try? format.parse(data, naiveOffsetSeconds: 0)
        }
    }

    static func amount(_ data: UnsafeBufferPointer<UInt8>) {
        for mark in [DecimalMark.point, .pointOrComma, .comma] {
            for negative in [false, true] {
                guard let money = try? AmountParser.parse(data, mark: mark, allowNegative: negative) else { continue }
                #expect(negative || money.picos >= 0)
                #expect(money.picos <= AmountParser.maxPicos && money.picos >= -AmountParser.maxPicos)
                #expect((try? AmountParser.parse(money.description, mark: .point, allowNegative: true)) == money)
                #expect((try? AmountParser.parse(money.exactText(decimalMark: ","), mark: .comma, allowNegative: true)) == money)
            }
        }
    }
}
