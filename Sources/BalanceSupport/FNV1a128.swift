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
