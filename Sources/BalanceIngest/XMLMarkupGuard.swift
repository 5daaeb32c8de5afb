import BalanceModel
import BalanceSupport
import Glibc

/// Looks at an XML document's bytes before libxml2 does: counts the attributes of each start
/// tag (refusing more than `maxAttributes`), and notes the line of a DOCTYPE. It only needs to
/// tell markup from text, quoted values, comments, CDATA and processing instructions.
struct XMLMarkupGuard {
    let maxAttributes: Int
    private(set) var line = 1
    private(set) var doctypeLine: Int? = nil
    /// Where in the bytes last scanned the document was refused: the bytes before it may still
    /// be parsed, so that the records before the refused tag are read whatever the chunks were.
    private(set) var refusedAt = 0
    private enum State { case text, open, tag, quoted(UInt8), bang(Int), comment, cdata, instruction, declaration }
    private var state = State.text
    private var attributes = 0
    /// The last bytes seen, for the ends of comments (`-->`), CDATA (`]]>`) and instructions (`?>`).
    private var last: (UInt8, UInt8) = (0, 0)
    private var bang: [UInt8] = []

    init(maxAttributes: Int) { self.maxAttributes = maxAttributes }

    /// Between markup: where a document may be cut and read on from (see `XMLSplit`).
    var isInText: Bool {
        if case .text = state { return true }
        return false
    }

    /// Scans the next bytes; returns the reason to refuse the document, if any.
    mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard let base = bytes.baseAddress else { return nil }
        var index = 0
        let count = bytes.count
        while index < count {
            // Text, start tags and quoted values are nearly all of an export, and run in locals
            // here (the state is written back when the loop stops): text and quoted values skip to
            // the byte that ends them (`find`), a start tag goes a byte at a time (its names are
            // short). Only the rare markup (comments, CDATA, declarations) takes the byte-wise
            // path below; `last` is only read there, and set there.
            var mode: UInt8
            switch state {
            case .text: mode = 0
            case .tag: mode = 1
            case .quoted(let mark): mode = mark
            default: mode = 2
            }
            if mode != 2 {
                var cursor = index
                var lines = 0
                var counted = attributes
                var opened = false
                var refused = false
                scanning: while cursor < count {
                    switch mode {
                    case 0:
                        cursor = Self.find(UInt8(ascii: "<"), base, from: cursor, count: count, lines: &lines)
                        guard cursor < count else { break scanning }
                        cursor += 1
                        opened = true
                        break scanning
                    case 1:
                        let byte = base[cursor]
                        cursor += 1
                        // Letters, digits past `>` and most of a name: nothing to do.
                        if byte > UInt8(ascii: ">") { continue }
                        switch byte {
                        case 0x0A: lines += 1
                        case UInt8(ascii: "\""), UInt8(ascii: "'"): mode = byte
                        case UInt8(ascii: "="):
                            counted += 1
                            if counted > maxAttributes { refused = true; break scanning }
                        case UInt8(ascii: ">"): mode = 0
                        default: break
                        }
                    default:
                        cursor = Self.find(mode, base, from: cursor, count: count, lines: &lines)
                        guard cursor < count else { break scanning }
                        cursor += 1
                        mode = 1
                    }
                }
                line += lines
                attributes = counted
                index = cursor
                if refused {
                    refusedAt = cursor - 1
                    return "an element has more than \(maxAttributes) attributes"
                }
                if opened {
                    state = .open
                    last = (last.1, UInt8(ascii: "<"))
                    continue
                }
                state = mode == 0 ? .text : mode == 1 ? .tag : .quoted(mode)
                return nil
            }
            let byte = base[index]
            index += 1
            if byte == 0x0A { line += 1 }
            switch state {
            case .text, .tag, .quoted:
                break // handled above
            case .open:
                switch byte {
                case UInt8(ascii: "!"): state = .bang(0); bang = []
                case UInt8(ascii: "?"): state = .instruction
                default:
                    attributes = 0
                    state = byte == UInt8(ascii: ">") ? .text : .tag
                }
            case .bang(let count):
                bang.append(byte)
                if bang == Array("--".utf8) { state = .comment; last = (0, 0) }
                else if bang == Array("[CDATA[".utf8) { state = .cdata; last = (0, 0) }
                else if !Array("[CDATA[".utf8).starts(with: bang) && !Array("--".utf8).starts(with: bang) {
                    if bang.first == UInt8(ascii: "D") && doctypeLine == nil { doctypeLine = line }
                    state = byte == UInt8(ascii: ">") ? .text : .declaration
                } else { state = .bang(count + 1) }
            case .comment:
                if byte == UInt8(ascii: ">") && last == (UInt8(ascii: "-"), UInt8(ascii: "-")) { state = .text }
            case .cdata:
                if byte == UInt8(ascii: ">") && last == (UInt8(ascii: "]"), UInt8(ascii: "]")) { state = .text }
            case .instruction:
                if byte == UInt8(ascii: ">") && last.1 == UInt8(ascii: "?") { state = .text }
            case .declaration:
                if byte == UInt8(ascii: ">") { state = .text }
            }
            last = (last.1, byte)
        }
        return nil
    }

    /// The index of the first `target` from `from` (`count`: none), adding the line feeds before
    /// it to `lines`. Short runs (the blanks between records, most values) are looked at byte by
    /// byte, longer ones with memchr.
    @inline(__always)
    static func find(_ target: UInt8, _ base: UnsafePointer<UInt8>, from start: Int, count: Int, lines: inout Int) -> Int {
        var index = start
        let short = min(count, start + 16)
        while index < short {
            let byte = base[index]
            if byte == target { return index }
            if byte == 0x0A { lines += 1 }
            index += 1
        }
        guard index < count else { return count }
        let end = memchr(base + index, Int32(target), count - index).map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base } ?? count
        var cursor = index
        while cursor < end, let feed = memchr(base + cursor, 0x0A, end - cursor) {
            lines += 1
            cursor = UnsafePointer(feed.assumingMemoryBound(to: UInt8.self)) - base + 1
        }
        return end
    }
}
