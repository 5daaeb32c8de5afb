/// Data quoted in a message is cut: a 900 KB YAML key or a 1 MB line of garbage in the sent log
/// is named by its first characters, not echoed whole to stderr.
public enum Quoted {
    /// Characters (Unicode scalars) of data a message quotes.
    public static let limit = 200

    /// `text` itself when short; else its first `limit` scalars, `…` and its length in bytes.
    public static func cut(_ text: String, limit: Int = Quoted.limit) -> String {
        var out = String.UnicodeScalarView()
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit { return String(out) + "… (\(text.utf8.count) bytes)" }
            out.append(scalar)
            count += 1
        }
        return text
    }
}
