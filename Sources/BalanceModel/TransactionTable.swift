import BalanceSupport
import Dispatch
import Glibc

/// The run's transactions as columns: one array per field, numbers for what repeats.
///
/// A million transactions held as `Transaction` structs cost 144 bytes each plus five
/// reference-counted strings, and sorting them moved all of it. Here a transaction is a row
/// number: its instant, amount, kind and source are plain numbers, its client, service and
/// currency are interned once through a table keyed by their bytes (SPEC §2.1: equal bytes, one
/// number; canonically equivalent text stays two names), and its id and description are spans of
/// one byte arena. `Transaction` survives as the row view that tests, builders and rare paths use.
public struct TransactionTable: Sendable {
    // One element per row.
    public private(set) var seconds: [Int64] = []
    /// Nanoseconds of the instant.
    public private(set) var nanoseconds: [Int32] = []
    /// The kind in bits 0–1, the fractional digits the input wrote in bits 2–5.
    @usableFromInline private(set) var flags: [UInt8] = []
    /// Pico-units when they fit an `Int64` (up to 9.2 million units, nearly every amount); a
    /// larger amount is `-(k + 1)` here and `largeAmounts[k]` (amounts in the table are never negative).
    @usableFromInline private(set) var amountPicos: [Int64] = []
    @usableFromInline private(set) var largeAmounts: [Money] = []
    public private(set) var clients: [UInt32] = []
    public private(set) var services: [UInt32] = []
    /// At most 26³ codes of three capital letters: two bytes hold any of them.
    @usableFromInline private(set) var currencies: [UInt16] = []
    public private(set) var sources: [SourceLocation] = []
    /// The id starts here in `text`; the description follows it.
    @usableFromInline private(set) var textStarts: [Int] = []
    @usableFromInline private(set) var idLengths: [UInt32] = []
    @usableFromInline private(set) var descriptionLengths: [UInt32] = []
    @usableFromInline private(set) var text: [UInt8] = []

    /// Client ids, services and currencies by number.
    public private(set) var clientNames = NameTable()
    public private(set) var serviceNames = NameTable()
    public private(set) var currencyNames = NameTable()

    public init() {}

    public init<S: Sequence>(_ transactions: S) where S.Element == Transaction {
        for transaction in transactions { append(transaction) }
    }

    public var count: Int { seconds.count }
    public var isEmpty: Bool { seconds.isEmpty }

    public mutating func reserveCapacity(_ rows: Int) {
        seconds.reserveCapacity(rows)
        nanoseconds.reserveCapacity(rows)
        flags.reserveCapacity(rows)
        amountPicos.reserveCapacity(rows)
        clients.reserveCapacity(rows)
        services.reserveCapacity(rows)
        currencies.reserveCapacity(rows)
        sources.reserveCapacity(rows)
        textStarts.reserveCapacity(rows)
        idLengths.reserveCapacity(rows)
        descriptionLengths.reserveCapacity(rows)
        // An id of a dozen bytes and a description now and then.
        text.reserveCapacity(Swift.max(text.capacity, rows * 16))
    }

    // MARK: Reading one field of a row

    @inlinable @inline(__always) public func instant(_ row: Int) -> Instant {
        Instant(seconds: seconds[row], nanoseconds: nanoseconds[row], fractionDigits: Int8(flags[row] >> 2))
    }

    @inlinable @inline(__always) public func kind(_ row: Int) -> TransactionKind {
        TransactionKind.byCode[Int(flags[row] & 3)]
    }

    @inlinable @inline(__always) public func amount(_ row: Int) -> Money {
        let picos = amountPicos[row]
        return picos >= 0 ? Money(picos: Int128(picos)) : largeAmounts[Int(-(picos + 1))]
    }

    /// The effect on the client's balance.
    @inlinable @inline(__always) public func net(_ row: Int) -> Money {
        flags[row] & 3 == TransactionKind.charge.code ? -amount(row) : amount(row)
    }

    @inlinable @inline(__always) public func source(_ row: Int) -> SourceLocation { sources[row] }

    @inlinable @inline(__always) public func client(_ row: Int) -> UInt32 { clients[row] }
    @inlinable @inline(__always) public func service(_ row: Int) -> UInt32 { services[row] }
    @inlinable @inline(__always) public func currency(_ row: Int) -> UInt32 { UInt32(currencies[row]) }

    @inlinable public func clientID(_ row: Int) -> String { clientNames.names[Int(clients[row])] }
    @inlinable public func serviceName(_ row: Int) -> String { serviceNames.names[Int(services[row])] }
    @inlinable public func currencyCode(_ row: Int) -> String { currencyNames.names[Int(currencies[row])] }

    @inlinable public func id(_ row: Int) -> String { String(decoding: idBytes(row), as: UTF8.self) }
    @inlinable public func description(_ row: Int) -> String { String(decoding: descriptionBytes(row), as: UTF8.self) }

    /// The id's bytes (a view into the arena).
    @inlinable @inline(__always) public func idBytes(_ row: Int) -> ArraySlice<UInt8> {
        let start = textStarts[row]
        return text[start..<(start + Int(idLengths[row]))]
    }

    @usableFromInline @inline(__always) func descriptionBytes(_ row: Int) -> ArraySlice<UInt8> {
        let start = textStarts[row] + Int(idLengths[row])
        return text[start..<(start + Int(descriptionLengths[row]))]
    }

    /// Calls `body` with the id's bytes, without copying them.
    @inlinable @inline(__always) public func withID<R>(_ row: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let start = textStarts[row]
        let length = Int(idLengths[row])
        return try text.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<(start + length)])) }
    }

    /// Balance order (SPEC §3): instant, then id byte-wise.
    @inlinable @inline(__always) public func precedes(_ a: Int, _ b: Int) -> Bool {
        if seconds[a] != seconds[b] { return seconds[a] < seconds[b] }
        if nanoseconds[a] != nanoseconds[b] { return nanoseconds[a] < nanoseconds[b] }
        return idPrecedes(a, b)
    }

    /// Whether row a's id comes before row b's byte-wise (a prefix first).
    @inlinable @inline(__always) public func idPrecedes(_ a: Int, _ b: Int) -> Bool {
        let (la, lb) = (Int(idLengths[a]), Int(idLengths[b]))
        let order = text.withUnsafeBytes { memcmp($0.baseAddress! + textStarts[a], $0.baseAddress! + textStarts[b], Swift.min(la, lb)) }
        return order != 0 ? order < 0 : la < lb
    }

    /// The row as a value (strings made for it).
    public subscript(row: Int) -> Transaction {
        Transaction(id: id(row), instant: instant(row), clientID: clientID(row), kind: kind(row),
                    service: serviceName(row), amount: amount(row), currency: currencyCode(row),
                    description: description(row), source: sources[row])
    }

    /// Equal in every field that the export states (overlapping exports repeat a record this way).
    /// Interned names are equal exactly when their bytes are.
    public func sameFacts(_ a: Int, _ b: Int) -> Bool {
        seconds[a] == seconds[b] && nanoseconds[a] == nanoseconds[b] && clients[a] == clients[b]
            && flags[a] & 3 == flags[b] & 3 && services[a] == services[b] && amount(a) == amount(b)
            && currencies[a] == currencies[b] && sameID(a, b)
            && descriptionLengths[a] == descriptionLengths[b]
            && spansEqual(textStarts[a] + Int(idLengths[a]), textStarts[b] + Int(idLengths[b]), Int(descriptionLengths[a]))
    }

    /// Whether two rows have the same id bytes.
    @inlinable @inline(__always) public func sameID(_ a: Int, _ b: Int) -> Bool {
        idLengths[a] == idLengths[b] && spansEqual(textStarts[a], textStarts[b], Int(idLengths[a]))
    }

    /// Whether `length` bytes of the arena at two offsets are equal.
    @usableFromInline @inline(__always) func spansEqual(_ x: Int, _ y: Int, _ length: Int) -> Bool {
        text.withUnsafeBytes { memcmp($0.baseAddress! + x, $0.baseAddress! + y, length) == 0 }
    }

    /// The fields in which two rows of one id differ, for a conflict's reason.
    func differences(_ a: Int, _ b: Int) -> String {
        var fields: [String] = []
        if instant(a) != instant(b) { fields.append("timestamp") }
        if clients[a] != clients[b] { fields.append("client_id") }
        if flags[a] & 3 != flags[b] & 3 { fields.append("type") }
        if services[a] != services[b] { fields.append("service") }
        if amount(a) != amount(b) { fields.append("amount \(amount(a)) vs \(amount(b))") }
        if currencies[a] != currencies[b] { fields.append("currency") }
        if !descriptionBytes(a).elementsEqual(descriptionBytes(b)) { fields.append("description") }
        return "different " + fields.joined(separator: ", ")
    }

    // MARK: Writing

    /// Appends a row from field bytes that have been checked (valid UTF-8, the rules of SPEC §2.1).
    public mutating func append(id: UnsafeBufferPointer<UInt8>, instant: Instant, client: UInt32, kind: TransactionKind,
                                service: UInt32, amount: Money, currency: UInt32,
                                description: UnsafeBufferPointer<UInt8>, source: SourceLocation) {
        // Past the room reserved, a quarter more at a time: an array doubles, which for the
        // columns of ten million rows would hold up to twice what they need.
        if seconds.count == seconds.capacity { reserveCapacity(seconds.count + seconds.count / 4 + 1024) }
        if text.count + id.count + description.count > text.capacity {
            text.reserveCapacity(text.count + text.count / 4 + id.count + description.count + 4096)
        }
        seconds.append(instant.seconds)
        nanoseconds.append(instant.nanoseconds)
        flags.append(kind.code | UInt8(truncatingIfNeeded: Int(instant.fractionDigits) << 2))
        if let picos = Int64(exactly: amount.picos), picos >= 0 {
            amountPicos.append(picos)
        } else {
            amountPicos.append(-Int64(largeAmounts.count) - 1)
            largeAmounts.append(amount)
        }
        clients.append(client)
        services.append(service)
        currencies.append(UInt16(truncatingIfNeeded: currency))
        sources.append(source)
        textStarts.append(text.count)
        idLengths.append(UInt32(id.count))
        descriptionLengths.append(UInt32(description.count))
        text.append(contentsOf: id)
        text.append(contentsOf: description)
    }

    /// Interns names for `append(id:…)`.
    public mutating func clientNumber(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 { clientNames.number(of: bytes) }
    public mutating func serviceNumber(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 { serviceNames.number(of: bytes) }
    public mutating func currencyNumber(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 { currencyNames.number(of: bytes) }

    public mutating func append(_ t: Transaction) {
        var (id, client, service, currency, description) = (t.id, t.clientID, t.service, t.currency, t.description)
        let c = client.withUTF8 { clientNumber($0) }
        let s = service.withUTF8 { serviceNumber($0) }
        let k = currency.withUTF8 { currencyNumber($0) }
        id.withUTF8 { idBytes in
            description.withUTF8 { descriptionBytes in
                append(id: idBytes, instant: t.instant, client: c, kind: t.kind, service: s, amount: t.amount,
                       currency: k, description: descriptionBytes, source: t.source)
            }
        }
    }

    /// Appends every row of `other` (its names renumbered into this table's), moving each row's
    /// line by `lineShift`: the second half of a file read on its own, numbered from 1 there.
    public mutating func append(contentsOf other: TransactionTable, lineShift: Int32 = 0) {
        let clientMap = other.clientNames.names.indices.map { n in other.clientNames.withName(n) { clientNames.number(of: $0) } }
        let serviceMap = other.serviceNames.names.indices.map { n in other.serviceNames.withName(n) { serviceNames.number(of: $0) } }
        let currencyMap = other.currencyNames.names.indices.map { n in other.currencyNames.withName(n) { currencyNames.number(of: $0) } }
        let textBase = text.count
        seconds.append(contentsOf: other.seconds)
        nanoseconds.append(contentsOf: other.nanoseconds)
        flags.append(contentsOf: other.flags)
        let largeBase = Int64(largeAmounts.count)
        amountPicos.append(contentsOf: other.amountPicos.lazy.map { $0 >= 0 ? $0 : $0 - largeBase })
        largeAmounts.append(contentsOf: other.largeAmounts)
        clients.append(contentsOf: other.clients.lazy.map { clientMap[Int($0)] })
        services.append(contentsOf: other.services.lazy.map { serviceMap[Int($0)] })
        currencies.append(contentsOf: other.currencies.lazy.map { UInt16(truncatingIfNeeded: currencyMap[Int($0)]) })
        sources.append(contentsOf: other.sources.lazy.map { SourceLocation(file: Int($0.file), line: Int($0.line &+ lineShift)) })
        textStarts.append(contentsOf: other.textStarts.lazy.map { $0 + textBase })
        idLengths.append(contentsOf: other.idLengths)
        descriptionLengths.append(contentsOf: other.descriptionLengths)
        text.append(contentsOf: other.text)
    }

    /// Drops the rows from `count` on (a document rejected whole takes back what it added).
    public mutating func truncate(to count: Int) {
        guard count < self.count else { return }
        let textEnd = textStarts[count]
        seconds.removeSubrange(count...)
        nanoseconds.removeSubrange(count...)
        flags.removeSubrange(count...)
        amountPicos.removeSubrange(count...)
        clients.removeSubrange(count...)
        services.removeSubrange(count...)
        currencies.removeSubrange(count...)
        sources.removeSubrange(count...)
        textStarts.removeSubrange(count...)
        idLengths.removeSubrange(count...)
        descriptionLengths.removeSubrange(count...)
        text.removeSubrange(textEnd...)
    }

    /// Removes the last row and returns it as a value.
    @discardableResult
    public mutating func removeLast() -> Transaction {
        let last = self[count - 1]
        truncate(to: count - 1)
        return last
    }

    /// The rows `keep` says to keep, in order, as a new table with the same names.
    public func filtered(_ keep: (Int) -> Bool) -> TransactionTable {
        var result = TransactionTable()
        result.clientNames = clientNames
        result.serviceNames = serviceNames
        result.currencyNames = currencyNames
        result.largeAmounts = largeAmounts
        for row in 0..<count where keep(row) {
            let start = textStarts[row]
            let end = start + Int(idLengths[row]) + Int(descriptionLengths[row])
            result.seconds.append(seconds[row])
            result.nanoseconds.append(nanoseconds[row])
            result.flags.append(flags[row])
            result.amountPicos.append(amountPicos[row])
            result.clients.append(clients[row])
            result.services.append(services[row])
            result.currencies.append(currencies[row])
            result.sources.append(sources[row])
            result.textStarts.append(result.text.count)
            result.idLengths.append(idLengths[row])
            result.descriptionLengths.append(descriptionLengths[row])
            result.text.append(contentsOf: text[start..<end])
        }
        return result
    }

    /// The rows `order` names, in that order, as the new table: the ledger lays each client's
    /// transactions out contiguously in balance order, so reports and pages read them front to
    /// back instead of at random over the whole table. Column by column, so that at most one
    /// column exists twice at a time.
    public mutating func gather(_ order: [UInt32], workers: Int = 1) {
        let lanes = Swift.max(1, Swift.min(workers, order.count / 65_536 + 1))
        /// Each lane fills its share of the new column.
        func gathered<T>(_ column: inout [T]) {
            let old = column
            column = []
            column = [T](unsafeUninitializedCapacity: order.count) { buffer, count in
                nonisolated(unsafe) let target = buffer
                old.withUnsafeBufferPointer { source in
                    nonisolated(unsafe) let source = source
                    order.withUnsafeBufferPointer { order in
                        nonisolated(unsafe) let order = order
                        let fill = { @Sendable (lane: Int) in
                            for position in (order.count * lane / lanes)..<(order.count * (lane + 1) / lanes) {
                                (target.baseAddress! + position).initialize(to: source[Int(order[position])])
                            }
                        }
                        if lanes == 1 { fill(0) } else { DispatchQueue.concurrentPerform(iterations: lanes, execute: fill) }
                    }
                }
                count = order.count
            }
        }
        var newStarts = [Int](repeating: 0, count: order.count + 1)
        for (position, row) in order.enumerated() {
            newStarts[position + 1] = newStarts[position] + Int(idLengths[Int(row)]) + Int(descriptionLengths[Int(row)])
        }
        let newText = [UInt8](unsafeUninitializedCapacity: newStarts[order.count]) { buffer, count in
            nonisolated(unsafe) let target = buffer
            text.withUnsafeBufferPointer { source in
                nonisolated(unsafe) let source = source
                let (starts, newStarts) = (textStarts, newStarts)
                let (ids, descriptions) = (idLengths, descriptionLengths)
                let copy = { @Sendable (lane: Int) in
                    for position in (order.count * lane / lanes)..<(order.count * (lane + 1) / lanes) {
                        let row = Int(order[position])
                        let length = Int(ids[row]) + Int(descriptions[row])
                        let (to, from) = (target.baseAddress! + newStarts[position], source.baseAddress! + starts[row])
                        // Most spans are an id of a dozen bytes: a loop beats a call to memmove.
                        if length <= 32 {
                            for offset in 0..<length { to[offset] = from[offset] }
                        } else {
                            to.update(from: from, count: length)
                        }
                    }
                }
                if lanes == 1 { copy(0) } else { DispatchQueue.concurrentPerform(iterations: lanes, execute: copy) }
            }
            count = newStarts[order.count]
        }
        text = []
        text = newText
        newStarts.removeLast()
        textStarts = newStarts
        gathered(&seconds)
        gathered(&nanoseconds)
        gathered(&flags)
        gathered(&amountPicos)
        gathered(&clients)
        gathered(&services)
        gathered(&currencies)
        gathered(&sources)
        gathered(&idLengths)
        gathered(&descriptionLengths)
    }

}

extension TransactionTable: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public func index(after i: Int) -> Int { i + 1 }
    public func index(before i: Int) -> Int { i - 1 }
}

extension TransactionTable: Equatable {
    /// Equal rows, as values (names and arena layout may differ).
    public static func == (a: TransactionTable, b: TransactionTable) -> Bool { a.elementsEqual(b) }
}

extension TransactionTable: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: Transaction...) { self.init(elements) }
}

extension TransactionKind {
    /// The two bits a table row holds.
    @inlinable @inline(__always) var code: UInt8 {
        switch self {
        case .topup: return 0
        case .charge: return 1
        case .refund: return 2
        }
    }

    @usableFromInline static let byCode: [TransactionKind] = [.topup, .charge, .refund, .topup]
}
