import BalanceModel
import BalanceIngest
import BalanceReport

extension SummaryPart {
    /// The input part of a file whose rows are passed on as they were read (`ExportSplit.rawLines`):
    /// the records of the `passed` lines are counted by the renders that read them again, so their
    /// rejections (a line of two amount columns, one unreadable) are left to those renders; what the
    /// file read in all (`readAmounts`) is still the whole file's.
    public static func ofInput(_ export: IngestedExport, passingLines passed: Set<Int32>) -> SummaryPart {
        var rest = export
        rest.rejections.removeAll { $0.isRecord && passed.contains($0.source.line) }
        var part = ofInput(rest)
        if !part.files.isEmpty { part.files[0].readAmounts = SummaryMerge.texts(SummaryMerge.readAmounts(export)) }
        return part
    }
}
