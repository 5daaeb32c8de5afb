import BalanceSupport

/// How the ledger lays a run's rows out when it holds several currencies (SPEC §2.1): a client's
/// money is one account per currency, each with its own balance, and the rows of one account are
/// one contiguous, balance-ordered run of the table. Clients are numbered by the ledger; accounts
/// are numbered client after client, each client's by currency code bytes.
struct AccountLayout {
    /// Every currency of the run's kept rows and balance checkpoints, by code bytes.
    var currencies: [String]
    /// Account numbers of client `c`: `accountBase[c]..<accountBase[c + 1]`.
    var accountBase: [Int]
    /// Per account: its currency, an index into `currencies`.
    var accountCurrency: [Int32]
    /// Per client: its checkpoint with the currency it is in, or `nil`.
    var checkpoints: [BalanceCheckpoint?]
    /// The table's currency numbers as indices into `currencies`.
    private var indexOfNumber: [Int32]

    var accountCount: Int { accountCurrency.count }

    /// The account of a kept row of client `client`.
    @inline(__always)
    func account(row: Int, client: Int, table: TransactionTable) -> Int {
        let base = accountBase[client]
        let end = accountBase[client + 1]
        if end - base == 1 { return base }
        let wanted = indexOfNumber[Int(table.currency(row))]
        var low = base
        var high = end
        while low < high {
            let mid = (low + high) / 2
            if accountCurrency[mid] < wanted { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// A client whose balance checkpoint names no currency while its rows hold several: the
    /// checkpoint cannot be placed, so the clients record is refused (its rows then belong to no
    /// partner, and are named as an unknown client's).
    struct Unplaced {
        var client: Int
        var currencies: [String]
    }

    /// Lays out the kept rows (`keep[row]`) of `clients` (each row's client through `clientOfName`,
    /// `-1`: no client) and their checkpoints. `unplaced` lists the clients whose checkpoint cannot
    /// be placed; they get no accounts and the caller drops them.
    static func make(table: TransactionTable, keep: (Int) -> Bool, clientOfName: [Int32],
                     records: [ClientRecord]) -> (layout: AccountLayout, unplaced: [Unplaced]) {
        let numbers = table.currencyNames.count
        // Per client: its one currency number (-1: no row yet, -2: several).
        var only = [Int32](repeating: -1, count: records.count)
        var rowCurrencies = [Bool](repeating: false, count: numbers)
        var unknownCurrencies = [Bool](repeating: false, count: numbers)
        for row in 0..<table.count where keep(row) {
            let number = Int32(table.currency(row))
            let client = Int(clientOfName[Int(table.client(row))])
            guard client >= 0 else { unknownCurrencies[Int(number)] = true; continue }
            rowCurrencies[Int(number)] = true
            if only[client] == -1 { only[client] = number } else if only[client] != number { only[client] = -2 }
        }
        // Clients with several currencies: which (only they are looked at again).
        var several: [Int: Set<Int32>] = [:]
        if only.contains(-2) {
            for row in 0..<table.count where keep(row) {
                let client = Int(clientOfName[Int(table.client(row))])
                if client >= 0 && only[client] == -2 { several[client, default: []].insert(Int32(table.currency(row))) }
            }
        }
        let seen = (0..<numbers).filter { rowCurrencies[$0] || unknownCurrencies[$0] }.map { table.currencyNames.names[$0] }
        // A checkpoint without a currency is in the client's one currency; without rows, in the
        // run's one currency, or RUB (SPEC §2.1: the currency when none is named).
        let fallback = seen.count == 1 ? seen[0] : "RUB"
        var unplaced: [Unplaced] = []
        var checkpoints: [BalanceCheckpoint?] = []
        var codes = Set(seen)
        for (client, record) in records.enumerated() {
            guard var checkpoint = record.checkpoint else { checkpoints.append(nil); continue }
            if checkpoint.currency == nil {
                switch only[client] {
                case -1: checkpoint.currency = fallback
                case -2:
                    let names = several[client]!.map { table.currencyNames.names[Int($0)] }.sorted(by: byteOrder)
                    unplaced.append(Unplaced(client: client, currencies: names))
                    checkpoints.append(nil)
                    continue
                default: checkpoint.currency = table.currencyNames.names[Int(only[client])]
                }
            }
            codes.insert(checkpoint.currency!)
            checkpoints.append(checkpoint)
        }
        let currencies = codes.sorted(by: byteOrder)
        var index: [ByteKey: Int32] = [:]
        for (i, code) in currencies.enumerated() { index[ByteKey(code)] = Int32(i) }
        let indexOfNumber = table.currencyNames.names.map { index[ByteKey($0)] ?? -1 }
        let dropped = Set(unplaced.map(\.client))
        var accountBase = [0]
        var accountCurrency: [Int32] = []
        for client in records.indices {
            var mine = Set<Int32>()
            if !dropped.contains(client) {
                switch only[client] {
                case -1: break
                case -2: for number in several[client]! { mine.insert(indexOfNumber[Int(number)]) }
                default: mine.insert(indexOfNumber[Int(only[client])])
                }
                if let currency = checkpoints[client]?.currency { mine.insert(index[ByteKey(currency)]!) }
            }
            accountCurrency.append(contentsOf: mine.sorted())
            accountBase.append(accountCurrency.count)
        }
        return (AccountLayout(currencies: currencies, accountBase: accountBase, accountCurrency: accountCurrency,
                              checkpoints: checkpoints, indexOfNumber: indexOfNumber), unplaced)
    }
}
