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

/// The columnar transaction table and the ledger's layout of it: names interned by bytes, rows that
/// survive every move (append of a second half, truncation, filtering, the gather into balance order)
/// with every field intact, and balance order that does not depend on the input's order or the threads.
@Suite("Model: TransactionTable")
struct TransactionTableTests: ModelBuilders {
    let t = ModelTestFile.transactions

    @Test("names are interned by their bytes: NFC and NFD ids are two clients, equal bytes one")
    func internsByBytes() {
        let nfc = "\u{401}лка"          // Ёлка, one scalar for Ё
        let nfd = "\u{415}\u{308}лка"   // Е + combining diaeresis: canonically equivalent, other bytes
        #expect(nfc == nfd)             // what String == says, and why it is never used for ids
        let table = TransactionTable([
            tx("a", "2024-03-01T10:00:00+03:00", client: nfc, .charge, service: "S", "1"),
            tx("b", "2024-03-01T10:00:00+03:00", client: nfd, .charge, service: "S", "2"),
            tx("c", "2024-03-01T10:00:00+03:00", client: nfc, .topup, "3"),
        ])
        #expect(table.clientNames.count == 2)
        #expect(table.client(0) == table.client(2))
        #expect(table.client(0) != table.client(1))
        #expect(table.clientID(1).utf8.elementsEqual(nfd.utf8))
        #expect(table.serviceNames.count == 2)   // "S" and "" (the top-up's)
    }

    @Test("every field of a row reads back as written, large amounts and fractional seconds included")
    func roundTrip() {
        let rows = [
            tx("t1", "2024-03-01T10:00:00.250+03:00", client: "c1", .charge, service: "Compute", "0.000000000001"),
            tx("t2", "2024-03-01T10:00:00Z", client: "c2", .topup, "999999999999.999999999999", currency: "USD", description: "Оплата, \"счёт\""),
            tx("t3", "1700000000", client: "c1", .refund, service: "Storage", "9223372.036854775808"),
        ]
        let table = TransactionTable(rows)
        #expect(Array(table) == rows)
        #expect(table.amount(1) == money("999999999999.999999999999"))
        #expect(table.net(0) == -money("0.000000000001"))
        #expect(table.instant(0).fractionDigits == 3)
    }

    @Test("a second half appended: names renumbered into the first half's, lines shifted, large amounts kept")
    func appendRenumbers() {
        var first = TransactionTable([tx("a", "2024-03-01T10:00:00+03:00", client: "c1", .charge, service: "S", "1", line: 2)])
        let second = TransactionTable([
            tx("b", "2024-03-02T10:00:00+03:00", client: "c2", .charge, service: "T", "99999999.5", line: 1),
            tx("c", "2024-03-03T10:00:00+03:00", client: "c1", .charge, service: "S", "2", line: 2),
        ])
        first.append(contentsOf: second, lineShift: 10)
        #expect(first.count == 3)
        #expect(first.client(2) == first.client(0))
        #expect(first.service(2) == first.service(0))
        #expect(first[1].clientID == "c2" && first[1].service == "T" && first[1].amount == money("99999999.5"))
        #expect(first.source(1).line == 11 && first.source(2).line == 12)
    }

    @Test("truncate, filter and gather keep each row whole")
    func movesKeepRows() {
        let rows = (0..<50).map { n in
            tx("id-\(n)", "2024-03-01T10:00:\(String(format: "%02d", n % 60))+03:00", client: "c\(n % 7)", n % 5 == 0 ? .topup : .charge,
               service: n % 5 == 0 ? "" : "S\(n % 3)", "\(n).\(n)", description: n % 4 == 0 ? "d\(n)" : "")
        }
        var table = TransactionTable(rows)
        table.truncate(to: 40)
        #expect(Array(table) == Array(rows.prefix(40)))
        let odd = table.filtered { $0 % 2 == 1 }
        #expect(Array(odd) == rows.prefix(40).enumerated().filter { $0.offset % 2 == 1 }.map(\.element))
        let order = (0..<40).map { UInt32((17 * $0) % 40) }
        for workers in [1, 2, 4] {
            var gathered = table
            gathered.gather(order, workers: workers)
            #expect(Array(gathered) == order.map { rows[Int($0)] })
        }
    }

    @Test("balance order and every client's transactions are the same for shuffled input, on 1 or 4 threads")
    func orderDoesNotDependOnInputOrThreads() throws {
        var random = ModelSplitMix64(seed: 11)
        // Ties at one instant are common here (ten instants for 400 rows): settled by the id's bytes.
        let rows = (0..<400).map { n in
            tx("t\(n % 37)-\(n)", "2024-03-0\(1 + n % 9)T10:00:00+03:00", client: "c\(n % 13)", .charge, service: "S", "1.\(n)")
        }
        let clients = (0..<13).map { clientRecord("c\($0)") }
        let reference = Ledger.build(from: export(rows, clients: clients), workers: 1)
        for workers in [1, 4] {
            var shuffled = rows
            shuffled.shuffle(using: &random)
            let ledger = Ledger.build(from: export(shuffled, clients: clients), workers: workers)
            for id in reference.clients.keys {
                let got = try #require(ledger.clients[id]).transactions.map { $0.id }
                #expect(got == reference.clients[id]!.transactions.map { $0.id })
                let sorted = Array(try #require(ledger.clients[id]).transactions)
                #expect(zip(sorted, sorted.dropFirst()).allSatisfy { Ledger.balanceOrder($0, $1) })
            }
        }
    }

    @Test("the id table grows past its first size and still finds each id's first row")
    func idTableGrows() {
        let rows = (0..<3000).map { n in tx("id-\(n % 1000)", "2024-03-01T10:00:00+03:00", client: "c", .charge, service: "S", "1") }
        let table = TransactionTable(rows)
        var ids = Ledger.IDTable(capacity: 1, seed: 42)
        for row in 0..<table.count {
            let hash = table.withID(row) { ByteHash.seeded(UnsafeRawBufferPointer($0), seed: 42) }
            let first = ids.insertOrFind(row, hash: hash, in: table)
            #expect(first == (row < 1000 ? nil : row % 1000))
        }
    }

    @Test("fates are the same on one lane and on several (ids split over lanes by hash)")
    func fatesOnLanes() {
        var random = ModelSplitMix64(seed: 3)
        var rows = (0..<250_000).map { n in tx("t\(n)", "2024-03-01T10:00:00+03:00", client: "c\(n % 50)", .charge, service: "S", "1") }
        // Repeats (identical) and conflicts (another amount) of earlier ids.
        for n in stride(from: 0, to: 20_000, by: 7) { rows.append(rows[n]) }
        for n in stride(from: 3, to: 20_000, by: 11) { rows.append(tx("t\(n)", "2024-03-01T10:00:00+03:00", client: "c\(n % 50)", .charge, service: "S", "2")) }
        rows.shuffle(using: &random)
        let table = TransactionTable(rows)
        let (one, conflictsOne) = Ledger.transactionFates(table, workers: 1)
        let (four, conflictsFour) = Ledger.transactionFates(table, workers: 4)
        #expect(one == four)
        #expect(conflictsOne.count == conflictsFour.count && conflictsOne.count > 1000)
        #expect(conflictsOne.allSatisfy { conflictsFour[$0.key]?.first == $0.value.first && conflictsFour[$0.key]?.sources == $0.value.sources })
    }

    @Test("the ledger lays each client out contiguously and keeps unknown clients' rows after them")
    func layout() throws {
        let e = export([
            tx("a", "2024-03-02T10:00:00+03:00", client: "c2", .charge, service: "S", "1"),
            tx("b", "2024-03-01T10:00:00+03:00", client: "ghost", .charge, service: "S", "5"),
            tx("c", "2024-03-01T10:00:00+03:00", client: "c1", .charge, service: "S", "2"),
            tx("d", "2024-03-01T09:00:00+03:00", client: "c2", .topup, "3"),
            tx("a", "2024-03-02T10:00:00+03:00", client: "c2", .charge, service: "S", "1"),
        ], clients: [clientRecord("c1"), clientRecord("c2")])
        let ledger = Ledger.build(from: e)
        let c2 = try #require(ledger.clients["c2"]).transactions
        #expect(c2.map(\.id) == ["d", "a"])
        #expect(c2.rows.count == 2)
        #expect(ledger.unknownClientTransactions.map(\.id) == ["b"])
        #expect(ledger.duplicates.count == 1)
        // Rows of the store: the two clients' runs, then the unknown client's; the duplicate dropped.
        #expect(ledger.store.table.count == 4)
    }
}
