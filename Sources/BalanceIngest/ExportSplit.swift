import BalanceModel
import BalanceSupport
/// One export file's records as rows a distributed job can route by client without parsing
/// anything (the Spark route, `scale/spark/`): each record, as this tool read it (profile,
/// encoding, gzip, XML), becomes a canonical CSV row of the SPEC layout with the provenance
/// columns naming its original file and line. Reading it back gives the same record: text fields
/// are the same bytes, times are exact instants in +03:00 with the input's fractional digits,
/// amounts exact decimals. So the parsing stays in one place, this tool.
///
/// The output is one line per record, tab-separated, every field ASCII:
/// `kind  seq  client-id-hex  key-hex  row-base64`, where `kind` is `transaction`, `client` or
/// `event`, `seq` the record's position in the file (the order a run reads it in), `key` the
/// partner id of a clients record and the id of a transaction (empty for an event), and the row
/// the canonical CSV record (ending in LF, which may hold line breaks inside quotes).
public enum ExportSplit {
    /// Canonical headers of the rows, with the provenance columns last.
    public static func header(_ kind: RecordKind) -> String {
        (kind.fields + [Provenance.fileColumn, Provenance.lineColumn]).joined(separator: ",") + "\n"
    }

    /// The lines for every record `export` read from `path`, the file it read alone.
    public static func lines(_ export: IngestedExport, path: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(export.transactions.count * 200)
        var row: [UInt8] = []
        var seq = 0
        func emit(_ kind: RecordKind, client: String, key: String, _ fields: [String], line: Int32) {
            row.removeAll(keepingCapacity: true)
            for field in fields {
                quote(field, into: &row)
                row.append(UInt8(ascii: ","))
            }
            quote(path, into: &row)
            row.append(UInt8(ascii: ","))
            row.append(contentsOf: String(line).utf8)
            row.append(0x0A)
            out.append(contentsOf: kind.rawValue.utf8)
            out.append(0x09)
            out.append(contentsOf: String(seq).utf8)
            out.append(0x09)
            Hex.append(client.utf8, to: &out)
            out.append(0x09)
            Hex.append(key.utf8, to: &out)
            out.append(0x09)
            Base64.append(row, to: &out)
            out.append(0x0A)
            seq += 1
        }
        for c in export.clients {
            emit(.client, client: c.id, key: c.partnerID,
                 [c.id, c.name, c.email, c.phone, c.partnerID, c.checkpoint?.balance.description ?? "",
                  c.checkpoint.map { MoscowTime.isoText($0.at) } ?? "", c.checkpoint?.currency ?? ""], line: c.source.line)
        }
        for e in export.events {
            emit(.event, client: e.clientID, key: "", [e.clientID, MoscowTime.isoText(e.instant), e.kind.rawValue], line: e.source.line)
        }
        for t in export.transactions {
            emit(.transaction, client: t.clientID, key: t.id,
                 [t.id, MoscowTime.isoText(t.instant), t.clientID, t.kind.rawValue, t.service, t.amount.description,
                  t.currency, t.description], line: t.source.line)
        }
        return out
    }

    /// Always quoted (RFC 4180): a field is its bytes, whatever they hold.
    static func quote(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }

}
