import BalanceSupport
/// An identifier from the data, compared, hashed and ordered as its UTF-8 bytes (SPEC §2.1).
///
/// Swift's `String ==` and `Hashable` use Unicode canonical equivalence, so `Ёлка` in NFC and in
/// NFD bytes would be one dictionary key, and one client's money would land in another's report.
/// Billing systems compare ids as bytes; so does every table keyed by an id here.
public struct ByteKey: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let text: String

    public init(_ text: String) { self.text = text }
    public init(stringLiteral value: String) { self.text = value }

    public var description: String { text }

    public static func == (a: ByteKey, b: ByteKey) -> Bool { a.text.bytesEqual(b.text) }

    public static func < (a: ByteKey, b: ByteKey) -> Bool { byteOrder(a.text, b.text) }

    public func hash(into hasher: inout Hasher) {
        var text = self.text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        hasher.combine(text.utf8.count)
    }
}

extension String {
    /// Equal as UTF-8 bytes, not as canonically equivalent text.
    @inlinable
    public func bytesEqual(_ other: String) -> Bool {
        utf8.count == other.utf8.count && utf8.elementsEqual(other.utf8)
    }
}

/// Byte-wise (UTF-8) order: the same on every machine and locale.
public func byteOrder(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}
