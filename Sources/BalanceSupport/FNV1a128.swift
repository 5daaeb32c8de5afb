/// 128-bit FNV-1a: stable across runs and machines (unlike `Hasher`), for names and ids the
/// output must reproduce byte for byte.
package struct FNV1a128 {
    package private(set) var value: UInt128 = 0x6c62272e07bb014262b821756295c58d
    package init() {}
    private static let prime: UInt128 = 0x0000000001000000000000000000013B

    package mutating func add<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for byte in bytes {
            value ^= UInt128(byte)
            value = value &* FNV1a128.prime
        }
    }

    /// The hash as 16 bytes, most significant first.
    package var bytes: [UInt8] { (0..<16).map { UInt8(truncatingIfNeeded: value >> (120 - 8 * UInt128($0))) } }
}

extension FNV1a128 {
    /// The hash of `bytes`, as 16 bytes.
    package static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var hash = FNV1a128()
        hash.add(bytes)
        return hash.bytes
    }
}

/// 64-bit FNV-1a over parts, each ended by a 0xFF byte: MIME boundaries that depend on the content only.
package enum FNV1a64 {
    package static func hex(_ parts: [[UInt8]]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in parts {
            for byte in part {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
            hash ^= 0xFF
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return Hex.string((0..<8).map { UInt8(truncatingIfNeeded: hash >> (56 - 8 * UInt64($0))) })
    }
}
