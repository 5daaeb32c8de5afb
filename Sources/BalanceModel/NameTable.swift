import BalanceSupport
import Dispatch
import Glibc

/// Names (client ids, services, currencies) interned by their bytes: equal bytes, one number,
/// in the order they were first seen. Open addressing over a seeded hash of the bytes (the seed
/// keeps crafted names from piling into one chain); the numbers do not depend on the seed.
public struct NameTable: Sendable {
    public private(set) var names: [String] = []
    private var bytes: [UInt8] = []
    /// Name n is `bytes[starts[n]..<starts[n + 1]]`.
    private var starts: [Int] = [0]
    /// Each slot: the name's number + 1 in the high 32 bits, 32 bits of its hash in the low ones; 0 is empty.
    private var slots = [UInt64](repeating: 0, count: 16)
    private let seed = UInt64.random(in: 0...UInt64.max)

    public init() {}

    public var count: Int { names.count }

    /// The number of `name`, given one when it is new. The bytes must be valid UTF-8.
    public mutating func number(of name: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let hash = ByteHash.seeded(UnsafeRawBufferPointer(name), seed: seed)
        let fingerprint = hash & 0xFFFF_FFFF
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash >> 32) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            if entry & 0xFFFF_FFFF == fingerprint {
                let n = Int(entry >> 32) - 1
                if isName(n, name) { return UInt32(n) }
            }
            slot = (slot + 1) & mask
        }
        let n = names.count
        names.append(String(decoding: name, as: UTF8.self))
        bytes.append(contentsOf: name)
        starts.append(bytes.count)
        slots[slot] = (UInt64(n + 1) << 32) | fingerprint
        if names.count * 2 > slots.count { grow() }
        return UInt32(n)
    }

    @inline(__always) private func isName(_ n: Int, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = starts[n]
        guard starts[n + 1] - start == name.count else { return false }
        guard let other = name.baseAddress else { return true }
        return bytes.withUnsafeBytes { memcmp($0.baseAddress! + start, other, name.count) == 0 }
    }

    /// Calls `body` with name n's bytes.
    public func withName<R>(_ n: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[starts[n]..<starts[n + 1]])) }
    }

    private mutating func grow() {
        var larger = [UInt64](repeating: 0, count: slots.count * 2)
        let mask = larger.count - 1
        for n in names.indices {
            let hash = bytes.withUnsafeBytes { ByteHash.seeded(UnsafeRawBufferPointer(rebasing: $0[starts[n]..<starts[n + 1]]), seed: seed) }
            var slot = Int(truncatingIfNeeded: hash >> 32) & mask
            while larger[slot] != 0 { slot = (slot + 1) & mask }
            larger[slot] = (UInt64(n + 1) << 32) | (hash & 0xFFFF_FFFF)
        }
        slots = larger
    }
}

/// The one hash of bytes that the run's lookup tables use: FNV-1a with a per-run seed, finished so
/// that both halves of the result are mixed (the high half picks the slot, the low half is kept).
enum ByteHash {
    @inline(__always)
    static func seeded(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ seed
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        hash ^= hash >> 29
        hash = hash &* 0xBF58_476D_1CE4_E5B9
        return hash ^ (hash >> 32)
    }
}
