import BalanceSupport
/// A client's state towards its partner (SPEC §2.3).
public enum ClientState: String, Sendable, Codable {
    case invited, active, blocked, removed
}

/// A half-open span of time `[start, end)`.
public struct Interval: Sendable, Equatable {
    public var start: Instant
    public var end: Instant

    @inlinable public init(start: Instant, end: Instant) {
        self.start = start
        self.end = end
    }

    @inlinable public func contains(_ instant: Instant) -> Bool { start <= instant && instant < end }

    public func intersection(_ other: Interval) -> Interval? {
        let start = max(self.start, other.start)
        let end = min(self.end, other.end)
        return start < end ? Interval(start: start, end: end) : nil
    }
}

/// A client's history of states and the attachment windows it implies: from a `confirmed`
/// event (inclusive) to the next `removed` (exclusive). Only inside these windows is a client's
/// money its partner's business.
public struct ClientTimeline: Sendable, Equatable {
    public struct Change: Sendable, Equatable {
        public var instant: Instant
        public var state: ClientState
    }

    /// Accepted state changes in time order. Empty with `alwaysActive` for runs without events.
    public private(set) var changes: [Change]
    public private(set) var attachmentWindows: [Interval]
    public let alwaysActive: Bool

    /// The timeline of a run with no events at all: attached and active for all time.
    public static let alwaysAttached = ClientTimeline(changes: [], windows: [Interval(start: .distantPast, end: .distantFuture)], alwaysActive: true)

    init(changes: [Change], windows: [Interval], alwaysActive: Bool) {
        self.changes = changes
        self.attachmentWindows = windows
        self.alwaysActive = alwaysActive
    }

    /// A state-machine violation: the event cannot follow the state the client is in.
    public struct IllegalTransition: Error, Equatable {
        public var from: ClientState?
        public var event: ClientEventKind
    }

    /// Replays events (already in time order) through the state machine of SPEC §2.3.
    /// Illegal events are returned, not applied, so the rest of the history still counts.
    public static func replay(_ events: [ClientEvent]) -> (ClientTimeline, [(ClientEvent, IllegalTransition)]) {
        var state: ClientState? = nil
        var changes: [Change] = []
        var windows: [Interval] = []
        var openSince: Instant? = nil
        var illegal: [(ClientEvent, IllegalTransition)] = []
        for event in events {
            let next: ClientState?
            switch (state, event.kind) {
            case (nil, .invited), (.removed?, .invited): next = .invited
            case (.invited?, .confirmed): next = .active
            case (.active?, .blocked): next = .blocked
            case (.blocked?, .unblocked): next = .active
            case (.invited?, .removed), (.active?, .removed), (.blocked?, .removed): next = .removed
            default: next = nil
            }
            guard let newState = next else {
                illegal.append((event, IllegalTransition(from: state, event: event.kind)))
                continue
            }
            if event.kind == .confirmed { openSince = event.instant }
            if event.kind == .removed, let start = openSince {
                if start < event.instant { windows.append(Interval(start: start, end: event.instant)) }
                openSince = nil
            }
            state = newState
            changes.append(Change(instant: event.instant, state: newState))
        }
        if let start = openSince { windows.append(Interval(start: start, end: .distantFuture)) }
        return (ClientTimeline(changes: changes, windows: windows, alwaysActive: false), illegal)
    }

    /// The state at moment `t`: the replay of the events strictly before `t`, with the moment of
    /// the event that set it; `nil` when the client does not exist for the partner yet.
    public func state(at t: Instant) -> (state: ClientState, since: Instant?)? {
        if alwaysActive { return (.active, nil) }
        var low = 0
        var high = changes.count
        while low < high {
            let mid = (low + high) / 2
            if changes[mid].instant < t { low = mid + 1 } else { high = mid }
        }
        guard low > 0 else { return nil }
        return (changes[low - 1].state, changes[low - 1].instant)
    }

    public func isAttached(at t: Instant) -> Bool {
        attachmentWindows.contains { $0.contains(t) }
    }

    /// The parts of `period` inside attachment windows: what the partner may see.
    public func visibleIntervals(in period: Interval) -> [Interval] {
        attachmentWindows.compactMap { $0.intersection(period) }
    }
}

extension ClientTimeline.IllegalTransition: CustomStringConvertible {
    public var description: String {
        "illegal transition: \(event.rawValue) while \(from?.rawValue ?? "not yet invited")"
    }
}
