// libFuzzer entry point for balance-report's parsers. Built by Fuzz/run.sh together with the
// library's Ingest and Model sources (not through SwiftPM); BALANCE_REPORT_FUZZ_TARGET picks the
// target: csv, xml, timestamp or amount.
import Glibc

enum FuzzTarget: String {
    case csv, xml, timestamp, amount

    static let current: FuzzTarget = {
        guard let name = getenv("BALANCE_REPORT_FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget(rawValue: name) else {
            let message = "set BALANCE_REPORT_FUZZ_TARGET to csv, xml, timestamp or amount\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            exit(2)
        }
        return target
    }()
}

/// Writes the input to a file of this process (the readers take paths) and returns its path.
func scratchFile(_ bytes: UnsafeBufferPointer<UInt8>, suffix: String) -> String {
    let path = "/tmp/balance-report-fuzz-\(getpid())\(suffix)"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot write \(path)")
    var offset = 0
    while offset < bytes.count {
        let wrote = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        precondition(wrote > 0)
        offset += wrote
    }
    close(fd)
    return path
}

/// What must hold of any ingest, whatever the bytes.
func checkIngest(_ export: IngestedExport) {
    for transaction in export.transactions {
        precondition(transaction.amount.picos >= 0 && transaction.amount.picos <= AmountParser.maxPicos)
        precondition(!transaction.id.isEmpty && !transaction.clientID.isEmpty)
    }
    for rejection in export.rejections { precondition(rejection.source.line >= 0) }
    precondition(export.files.count == 1 && export.files[0].records >= 0)
    _ = Ledger.build(from: export)
}

func fuzzCSV(_ data: UnsafeBufferPointer<UInt8>) {
    guard let settings = data.first else { return }
    let body = UnsafeBufferPointer(rebasing: data.dropFirst())
    var options = IngestOptions(naiveOffsetSeconds: settings & 0x40 != 0 ? 0 : MoscowTime.offsetSeconds,
                                mapping: HeaderMapping(["Сумма": "amount", "Дата": "timestamp"]))
    options.encoding = settings & 1 != 0 ? .windows1251 : .utf8
    options.decimalMark = [nil, .point, .pointOrComma, .comma][Int(settings >> 1 & 3)]
    if settings & 8 != 0 { options.delimiter = settings & 0x80 != 0 ? 0x09 : UInt8(ascii: ";") }
    if settings & 16 != 0 { options.timestampFormat = try? TimestampFormat("DD.MM.YYYY HH:MM") }
    if settings & 32 != 0 { options.values = ValueMaps(transactionTypes: ["Пополнение": "topup", "x": "charge"], eventTypes: ["y": "removed"], currencies: ["руб.": "RUB"]) }
    let path = scratchFile(body, suffix: ".csv")
    checkIngest(Ingestor.ingest(paths: [path], options: options))
}

func fuzzXML(_ data: UnsafeBufferPointer<UInt8>) {
    let path = scratchFile(data, suffix: ".xml")
    checkIngest(Ingestor.ingest(paths: [path], options: IngestOptions()))
}

func fuzzTimestamp(_ data: UnsafeBufferPointer<UInt8>) {
    if let instant = try? TimestampParser.parse(data, naiveOffsetSeconds: MoscowTime.offsetSeconds) {
        // Whatever was accepted names one instant, which its Moscow text names again.
        let text = MoscowTime.isoText(instant)
        let again = try? TimestampParser.parse(text)
        precondition(again == instant, "\(text) does not read back")
    }
    for pattern in ["DD.MM.YYYY HH:MM", "YYYYMMDD", "MM/DD/YYYY HH:mm:ss"] {
        let format = try! TimestampFormat(pattern)
        _ = try? TimestampParser.parse(data, naiveOffsetSeconds: 0, format: format)
    }
    // The bytes as a declared layout.
    if let pattern = String(validating: data, as: UTF8.self), let format = try? TimestampFormat(pattern) {
        _ = try? format.parse(data, naiveOffsetSeconds: 0)
    }
}

func fuzzAmount(_ data: UnsafeBufferPointer<UInt8>) {
    for mark in [DecimalMark.point, .pointOrComma, .comma] {
        for negative in [false, true] {
            guard let money = try? AmountParser.parse(data, mark: mark, allowNegative: negative) else { continue }
            precondition(negative || money.picos >= 0)
            precondition(money.picos <= AmountParser.maxPicos && money.picos >= -AmountParser.maxPicos)
            // Exact: the CSV form reads back to the same amount.
            precondition((try? AmountParser.parse(money.description, mark: .point, allowNegative: true)) == money)
            precondition((try? AmountParser.parse(money.exactText(decimalMark: ","), mark: .comma, allowNegative: true)) == money)
        }
    }
    // Float-printed amounts (`float_amounts`, issue 22): within the cap, the rounded amount reads back
    // exactly, and a rounding drops no more than half a pico's digits.
    for negative in [false, true] {
        guard let parsed = try? FloatAmountParser.parse(data, allowNegative: negative) else { continue }
        precondition(negative || !parsed.negative)
        precondition(parsed.money.picos <= AmountParser.maxPicos && parsed.money.picos >= -AmountParser.maxPicos)
        precondition((try? AmountParser.parse(parsed.money.description, mark: .point, allowNegative: true)) == parsed.money)
        precondition(parsed.dropped.last != 0 && parsed.dropped.allSatisfy { $0 <= 9 })
        var rounding = AmountRounding()
        rounding.add(parsed)
        _ = rounding.difference
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let data = UnsafeBufferPointer(start: count == 0 ? nil : start, count: count)
    switch FuzzTarget.current {
    case .csv: fuzzCSV(data)
    case .xml: fuzzXML(data)
    case .timestamp: fuzzTimestamp(data)
    case .amount: fuzzAmount(data)
    }
    return 0
}
