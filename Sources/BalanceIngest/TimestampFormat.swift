import BalanceModel
import BalanceSupport
/// A timestamp layout declared by an import profile, such as `DD.MM.YYYY HH:MM` or
/// `YYYY/MM/DD HH:mm:ss`.
///
/// Tokens: `YYYY` year, `MM` month, `DD` day, `HH` hour (00–23), `mm` minutes, `ss` or `SS`
/// seconds; every token is that many digits exactly. A `MM` that comes after `HH` (with only
/// separators between) is minutes, as people write `HH:MM`. Anything else is a literal separator
/// (spaces, `.`, `-`, `/`, `:`, `T`, `,`). The day, month and year are required; without hours
/// the time is midnight, without seconds `:00`. Values are read in the run's input offset.
public struct TimestampFormat: Sendable, Equatable, CustomStringConvertible {
    enum Part: Equatable, Sendable {
        case year, month, day, hour, minute, second
        case literal(UInt8)

        var width: Int { self == .year ? 4 : 2 }
    }

    let parts: [Part]
    public let pattern: String

    public var description: String { pattern }

    public init(_ pattern: String) throws(FieldError) {
        self.pattern = pattern
        let bytes = Array(pattern.utf8)
        var parts: [Part] = []
        var index = 0
        func take(_ token: String) -> Bool {
            let tokenBytes = Array(token.utf8)
            guard index + tokenBytes.count <= bytes.count, Array(bytes[index..<index + tokenBytes.count]) == tokenBytes else { return false }
            index += tokenBytes.count
            return true
        }
        while index < bytes.count {
            let lastField = parts.last(where: { if case .literal = $0 { return false } else { return true } })
            if take("YYYY") { parts.append(.year) }
            else if take("MM") { parts.append(lastField == .hour ? .minute : .month) }
            else if take("DD") { parts.append(.day) }
            else if take("HH") { parts.append(.hour) }
            else if take("mm") { parts.append(.minute) }
            else if take("ss") || take("SS") { parts.append(.second) }
            else {
                let byte = bytes[index]
                let allowed: Set<UInt8> = [0x20, UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "/"),
                                           UInt8(ascii: ":"), UInt8(ascii: "T"), UInt8(ascii: ",")]
                guard allowed.contains(byte) else {
                    throw FieldError("timestamp format '\(pattern)': unexpected '\(String(decoding: [byte], as: UTF8.self))' (use YYYY, MM, DD, HH, mm, ss and the separators . - / : , space T)")
                }
                parts.append(.literal(byte))
                index += 1
            }
        }
        for required in [Part.year, .month, .day] where !parts.contains(required) {
            throw FieldError("timestamp format '\(pattern)' has no \(required == .year ? "YYYY" : required == .month ? "MM" : "DD")")
        }
        for field in [Part.year, .month, .day, .hour, .minute, .second] where parts.filter({ $0 == field }).count > 1 {
            throw FieldError("timestamp format '\(pattern)' names a field twice")
        }
        if parts.contains(.minute) && !parts.contains(.hour) { throw FieldError("timestamp format '\(pattern)' has minutes but no HH") }
        if parts.contains(.second) && !parts.contains(.minute) { throw FieldError("timestamp format '\(pattern)' has seconds but no minutes") }
        self.parts = parts
    }

    /// The instant `bytes` names in this layout; `nil` when they are not in this layout at all.
    /// Text in the layout that names no real moment (`30.02.2024`, `24:00`) is an error.
    public func parse(_ bytes: UnsafeBufferPointer<UInt8>, naiveOffsetSeconds: Int64) throws(FieldError) -> Instant? {
        var index = 0
        var year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0
        for part in parts {
            if case .literal(let byte) = part {
                guard index < bytes.count, bytes[index] == byte else { return nil }
                index += 1
                continue
            }
            guard index + part.width <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<part.width {
                let byte = bytes[index]
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
                index += 1
            }
            switch part {
            case .year: year = value
            case .month: month = value
            case .day: day = value
            case .hour: hour = value
            case .minute: minute = value
            case .second: second = value
            case .literal: break
            }
        }
        guard index == bytes.count else { return nil }
        let date = CivilDate(year: year, month: month, day: day)
        guard date.isValid else { throw FieldError("timestamp has an impossible date") }
        guard hour <= 23, minute <= 59, second <= 59 else { throw FieldError("timestamp has an impossible time of day") }
        let local = date.daysSinceEpoch * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return try TimestampParser.inRange(Instant(seconds: local - naiveOffsetSeconds))
    }
}

extension TimestampParser {
    /// With a declared format: the declared layout first, then the forms that cannot be mistaken
    /// for it (ISO 8601 `YYYY-MM-DD…` and Unix seconds). The other built-in layout, `DD.MM.YYYY`,
    /// is not tried: a profile that declares `MM.DD.YYYY` must never have a date read day-first.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, naiveOffsetSeconds: Int64, format: TimestampFormat?) throws(FieldError) -> Instant {
        guard let format else { return try parse(bytes, naiveOffsetSeconds: naiveOffsetSeconds) }
        if let instant = try format.parse(bytes, naiveOffsetSeconds: naiveOffsetSeconds) { return instant }
        if bytes.isEmpty { throw FieldError("timestamp is empty") }
        let allDigits = bytes.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        let iso = bytes.count >= 10 && bytes[4] == UInt8(ascii: "-") && bytes[7] == UInt8(ascii: "-")
        if allDigits || iso { return try parse(bytes, naiveOffsetSeconds: naiveOffsetSeconds) }
        throw FieldError("timestamp does not match the profile's format \(format.pattern) (nor ISO 8601 or Unix seconds)")
    }
}
