/// Hex and base64 (RFC 4648), and digit grouping: what the file names, the Spark route's rows,
/// MIME parts and the summaries all write, written once.
package enum Hex {
    package static let digits = Array("0123456789abcdef".utf8)

    /// Two lowercase hex digits per byte, appended to `out`.
    package static func append<S: Sequence>(_ bytes: S, to out: inout [UInt8]) where S.Element == UInt8 {
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
    }

    package static func string<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

package enum Base64 {
    package static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Base64 with `=` padding, appended to `out`.
    package static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        var index = 0
        while index < bytes.count {
            let b0 = bytes[index]
            let b1 = index + 1 < bytes.count ? bytes[index + 1] : 0
            let b2 = index + 2 < bytes.count ? bytes[index + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(index + 1 < bytes.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(index + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
    }

    package static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        append(bytes, to: &out)
        return out
    }

    /// Base64 in lines of 76 characters, each ended by CRLF (RFC 2045 §6.8).
    package static func lines(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 4 / 3 + bytes.count / 38 + 8)
        var index = 0
        while index < bytes.count {
            // 57 bytes make one line of 76 characters.
            let end = min(index + 57, bytes.count)
            append(Array(bytes[index..<end]), to: &out)
            out.append(0x0D)
            out.append(0x0A)
            index = end
        }
        return out
    }

    /// The bytes of base64 text (padding optional); `nil` when a character is not base64.
    package static func decode(_ bytes: [UInt8]) -> [UInt8]? {
        var values: [UInt8] = []
        for byte in bytes where byte != UInt8(ascii: "=") {
            guard let value = alphabet.firstIndex(of: byte) else { return nil }
            values.append(UInt8(value))
        }
        var out: [UInt8] = []
        var index = 0
        while index + 1 < values.count {
            out.append(values[index] << 2 | values[index + 1] >> 4)
            if index + 2 < values.count { out.append(values[index + 1] << 4 | values[index + 2] >> 2) }
            if index + 3 < values.count { out.append(values[index + 2] << 6 | values[index + 3]) }
            index += 4
        }
        return out
    }
}

package enum Digits {
    /// `1234567` → `1 234 567` (or with another separator), whatever the locale.
    package static func grouped(_ value: Int128, separator: Character) -> String {
        let digits = Array(String(value < 0 ? -value : value))
        var out = value < 0 ? "-" : ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(separator) }
            out.append(digit)
        }
        return out
    }
}
