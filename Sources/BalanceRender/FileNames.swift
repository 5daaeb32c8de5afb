import BalanceReport
import BalanceModel
import BalanceSupport
/// File names for ids from the data. An id that is a safe, portable file name is used as is;
/// any other (`../x`, `a/b`, `..`, `CON`, `-rf`, control characters, very long) is replaced by
/// `_` and the hex of its UTF-8 bytes, or by a hash when that would be too long. No id can
/// name a path outside its folder, and two ids never silently share a file.
public enum FileNames {
    public static let maxPlainLength = 64

    public static func safeName(for id: String) -> String {
        if isPlain(id) { return id }
        let bytes = Array(id.utf8)
        if bytes.count * 2 + 1 <= maxPlainLength * 2 {
            return "_" + Hex.string(bytes)
        }
        return "_h" + Hex.string(FNV1a128.hash(bytes))
    }

    /// ASCII letters, digits, `.`, `_` and `-`; not starting with `.`, `-` or `_` (the last kept
    /// for encoded names); not a Windows device name; not too long.
    static func isPlain(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard !bytes.isEmpty, bytes.count <= maxPlainLength else { return false }
        guard let first = bytes.first, first != UInt8(ascii: "."), first != UInt8(ascii: "-"), first != UInt8(ascii: "_") else { return false }
        for byte in bytes {
            let ok = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            if !ok { return false }
        }
        let stem = id.split(separator: ".", maxSplits: 1).first.map { $0.uppercased() } ?? ""
        return !reservedDeviceNames.contains(stem)
    }

    static let reservedDeviceNames = Set(["CON", "PRN", "AUX", "NUL"] + (1...9).flatMap { ["COM\($0)", "LPT\($0)"] })

}
