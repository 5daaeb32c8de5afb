import BalanceSend
import BalanceOutput
import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
import Glibc

/// Issue 19: the output folder a render part names is that part's render, or nothing of it is
/// merged: its marker's period is the part's, its partner folders are the part's partners, its
/// `summary.json` says the part's period, currency and partner totals, and every file still has
/// the SHA-256 its render recorded in the marker.
enum PartOutput {
    /// The output's marker, once `folder` is found to be `part`'s render.
    static func check(_ part: SummaryPart, folder: String) throws(Diagnostic) -> OutputFolder.Marker {
        let markerPath = FileSystem.joined(folder, OutputFolder.markerName)
        let bytes = try FileSystem.readAll(markerPath)
        do { _ = try RenderedOutput.parseMarker(bytes, path: markerPath) } catch {
            throw Diagnostic("\(folder) is not a finished render output: \(error)")
        }
        guard let marker = OutputFolder.Marker.parse(bytes) else { throw Diagnostic("\(markerPath) is damaged") }
        let refused = "; nothing published (a part edited, or one of another run)"
        guard let first = marker.firstDay, let last = marker.lastDay,
              first.isoText == part.periodFrom, last.isoText == part.periodTo else {
            throw Diagnostic("\(folder) holds reports of \(marker.firstDay?.isoText ?? "?") – \(marker.lastDay?.isoText ?? "?"), but its render part is of \(part.periodFrom ?? "?") – \(part.periodTo ?? "?")" + refused)
        }
        // Its partner folders, and the part's partners.
        var folders = Set<ByteKey>()
        for file in marker.files {
            let components = file.split(separator: "/", maxSplits: 1)
            if components.count == 2 { folders.insert(ByteKey(String(components[0]))) }
        }
        let partners = Set(part.partners.map { ByteKey(FileNames.safeName(for: $0.partnerID)) })
        if folders != partners {
            let extra = folders.subtracting(partners).map(\.text).sorted(by: byteOrder)
            let missing = partners.subtracting(folders).map(\.text).sorted(by: byteOrder)
            throw Diagnostic("\(folder) holds the reports of partners its render part does not name"
                + (extra.isEmpty ? "" : " (\(extra.joined(separator: ", ")))")
                + (missing.isEmpty ? "" : ", and lacks those it names (\(missing.joined(separator: ", ")))") + refused)
        }
        // What its summary.json says of the period, the currency and the partners.
        guard marker.files.contains(OutputFiles.summary) else { throw Diagnostic("\(folder) has no summary.json" + refused) }
        let summaryPath = FileSystem.joined(folder, OutputFiles.summary)
        let summary = try FileSystem.readAll(summaryPath)
        guard let digest = marker.digest(of: OutputFiles.summary), SHA256.hex(summary) == digest else {
            throw Diagnostic("\(summaryPath) is not the file its render wrote (its SHA-256 differs from the marker's)" + refused)
        }
        guard let expected = expectedSummary(part) else { throw Diagnostic("the render part of \(folder) is damaged" + refused) }
        for (from, to, what) in [("\n  \"period\": ", "\n  \"records\": ", "period and currency"), ("\n  \"partners\": ", "\n  \"files\": ", "partners and their totals")] {
            let mine = fragment(summary, from: from, to: to), theirs = fragment(expected, from: from, to: to)
            guard let mine, let theirs, mine == theirs else {
                throw Diagnostic("the render part of \(folder) does not say the \(what) its summary.json says" + refused)
            }
        }
        // Its invoices (issue 23), the last key: in neither, or the same in both.
        let invoices = ("\n  \"invoices\": ", "\n}\n")
        guard fragment(summary, from: invoices.0, to: invoices.1) == fragment(expected, from: invoices.0, to: invoices.1) else {
            throw Diagnostic("the render part of \(folder) does not say the invoices its summary.json says" + refused)
        }
        return marker
    }

    /// The file's bytes have `digest`; returns it.
    static func verify(_ path: String, digest: String?, shown: String) throws(Diagnostic) -> String {
        guard let digest else {
            throw Diagnostic("\(shown): its output's marker records no SHA-256 of it (an output of an older balance-report): render the part again")
        }
        guard SHA256.hex(try FileSystem.readAll(path)) == digest else {
            throw Diagnostic("\(shown) was changed after its render (its SHA-256 is not the one the marker records); nothing published")
        }
        return digest
    }

    /// `summary.json` as the part's render would have written it, for the period, the currency and the partners.
    static func expectedSummary(_ part: SummaryPart) -> [UInt8]? {
        guard let from = part.periodFrom.flatMap(CivilDate.parse), let to = part.periodTo.flatMap(CivilDate.parse),
              let period = try? ReportPeriod(firstDay: from, lastDay: to) else { return nil }
        var lines: [PartnerLine] = []
        for partner in part.partners {
            guard let totals = try? SummaryMerge.movements(partner) else { return nil }
            lines.append(PartnerLine(partnerID: partner.partnerID, clients: partner.clients, totals: totals))
        }
        let empty = RunSummary(files: [], outcomes: [:], acceptedTotals: PerCurrency(), reportedTotals: PerCurrency(),
                               rejectedWithoutAmount: 0, rejections: [], duplicates: [], reconciliationFailures: [])
        guard let invoices = try? PartInvoices.merge([part]) else { return nil }
        return SummaryJSON.encode(period: period, currencies: part.currencies, summary: empty, partners: lines, invoices: invoices)
    }

    /// The bytes between the first `from` and the next `to`.
    static func fragment(_ bytes: [UInt8], from: String, to: String) -> ArraySlice<UInt8>? {
        guard let start = find(Array(from.utf8), in: bytes[...]) else { return nil }
        let rest = bytes[(start + from.utf8.count)...]
        guard let end = find(Array(to.utf8), in: rest) else { return nil }
        return rest[..<end]
    }

    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index + needle.count <= haystack.endIndex {
            if haystack[index] == needle[0], haystack[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
