import BalanceSend
import BalanceOutput
import BalanceRender
import BalanceReport
import BalanceIngest
import BalanceModel
import BalanceSupport
import Glibc

/// The output of a run rendered in parts (one `render` per partner set, the Spark route): the
/// partners' folders gathered into one `--out`, with the merged `summary.json` (and `rejects.csv`),
/// published as `render` publishes: staged beside `--out`, the marker last, swapped in as a whole;
/// `--out` only ever a new or empty folder or an earlier output of the tool.
public enum MergedOutput {
    /// Writes `run` into `destination`: every file each part's output lists in its marker except
    /// the run files (`summary.json`, `rejects.csv`), which are written from the merged summary.
    /// The parts' files are linked in, not copied (`ReportWriter.adopt`), where they share a file system.
    /// Nothing is published when two partners would share a folder name, as a render refuses it.
    public static func publish(_ run: MergedRun, to destination: String, renderer: ReportRenderer,
                               includeRejects: Bool) throws(Diagnostic) -> Int {
        try ReportRenderer.checkPartnerFolders(run.partners.map(\.partnerID))
        // The merged output's marker is a render's: the same bytes as one render of the run.
        let writer = try ReportWriter(destination: destination)
        var seen = Set<ByteKey>()
        // Every part's output is checked whole before any file of it is taken (issue 19).
        var checked: [(folder: String, marker: OutputFolder.Marker)] = []
        for part in run.renderParts {
            guard let folder = part.output else { throw Diagnostic("a render part does not name its output folder") }
            checked.append((folder, try PartOutput.check(part, folder: folder)))
        }
        for (folder, marker) in checked {
            for file in marker.files where !ReportRenderer.runFiles.contains(file) {
                guard seen.insert(ByteKey(file)).inserted else {
                    throw Diagnostic("two parts both wrote \(file): a partner's files belong to one part")
                }
                let source = FileSystem.joined(folder, file)
                let digest = try PartOutput.verify(source, digest: marker.digest(of: file), shown: source)
                try writer.adopt(file, from: source, digest: digest)
            }
        }
        do {
            if includeRejects { try writer.write(OutputFiles.rejects, try renderer.rejectsFile(run.summary, currencies: run.currencies)) }
            if !run.summary.unknownClients.isEmpty {
                try writer.write(OutputFiles.unknownClients, try renderer.unknownClientsFile(run.summary, currencies: run.currencies))
            }
        } catch let error as Diagnostic {
            throw error
        } catch {
            throw Diagnostic("rejects.csv: \(error)")
        }
        try writer.write(OutputFiles.summary, SummaryJSON.encode(period: run.period, currencies: run.currencies,
                                                            summary: run.summary, partners: run.partners,
                                                            invoices: try PartInvoices.merge(run.renderParts)))
        try writer.publish(period: run.period)
        return writer.writtenFiles
    }
}
