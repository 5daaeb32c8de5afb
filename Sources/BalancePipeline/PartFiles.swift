import BalanceModel
import BalanceReport
import Foundation

/// Summary parts as JSON: keys sorted, so a part's bytes depend only on its content.
public enum PartFiles {
    public static func encode(_ part: SummaryPart) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(part)
    }

    /// What `render --summary-part` writes: the run's part, with where its currency came from.
    public static func renderPart(_ analysis: Pipeline.Analysis, output: String) throws -> Data {
        let ledger = analysis.ledger
        var first: SourceLocation? = ledger.unknownClientTransactions.map(\.source).min()
        for client in ledger.clients.values {
            let transactions = client.transactions
            for index in transactions.indices where first.map({ transactions.source(index) < $0 }) ?? true { first = transactions.source(index) }
        }
        let part = try SummaryPart.of(analysis.report, currencyFromData: first != nil,
                                  currencySource: first.map { analysis.export.location($0) }, output: output)
        return try encode(part)
    }
}
