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

    /// What `render --summary-part` writes: the run's part.
    public static func renderPart(_ analysis: Pipeline.Analysis, output: String) throws -> Data {
        try encode(SummaryPart.of(analysis.report, output: output))
    }
}
