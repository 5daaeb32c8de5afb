@testable import BalanceTestSupport
@testable import BalancePipeline
@testable import BalanceSend
@testable import BalanceOutput
@testable import BalanceRender
@testable import BalanceReport
@testable import BalanceIngest
@testable import BalanceModel
@testable import BalanceSupport
import Testing

@Suite("Model: client state machine and attachment windows")
struct ClientTimelineTests: ModelBuilders {
    /// Events of client `c1` one day apart from 2024-03-01 (Moscow noon), in the given order.
    func history(_ kinds: [ClientEventKind]) -> [ClientEvent] {
        kinds.enumerated().map { index, kind in
            ev("c1", "2024-03-\(index < 9 ? "0" : "")\(index + 1)T12:00:00+03:00", kind, line: index + 2)
        }
    }

    // MARK: legal histories

    @Test("every legal transition is applied", arguments: [
        ([ClientEventKind.invited], ClientState.invited),
        ([.invited, .confirmed], .active),
        ([.invited, .confirmed, .blocked], .blocked),
        ([.invited, .confirmed, .blocked, .unblocked], .active),
        ([.invited, .removed], .removed),
        ([.invited, .confirmed, .removed], .removed),
        ([.invited, .confirmed, .blocked, .removed], .removed),
        ([.invited, .removed, .invited], .invited),
        ([.invited, .confirmed, .removed, .invited, .confirmed, .blocked, .unblocked, .blocked], .blocked),
    ])
    func legal(kinds: [ClientEventKind], final: ClientState) {
        let events = history(kinds)
        let (timeline, illegal) = ClientTimeline.replay(events)
        #expect(illegal.isEmpty)
        #expect(timeline.changes.count == kinds.count)
        #expect(timeline.changes.map(\.instant) == events.map(\.instant))
        #expect(timeline.changes.last?.state == final)
        #expect(!timeline.alwaysActive)
    }

    @Test("the state after each legal event", arguments: [
        (ClientEventKind.invited, [ClientEventKind](), ClientState.invited),
        (.confirmed, [.invited], .active),
        (.blocked, [.invited, .confirmed], .blocked),
        (.unblocked, [.invited, .confirmed, .blocked], .active),
        (.removed, [.invited], .removed),
        (.removed, [.invited, .confirmed], .removed),
        (.removed, [.invited, .confirmed, .blocked], .removed),
        (.invited, [.invited, .removed], .invited),
    ])
    func transition(event: ClientEventKind, before: [ClientEventKind], after: ClientState) {
        let (timeline, illegal) = ClientTimeline.replay(history(before + [event]))
        #expect(illegal.isEmpty)
        #expect(timeline.changes.last?.state == after)
    }

    // MARK: illegal histories

    @Test("an illegal event is returned, not applied", arguments: [
        // (history, index of the illegal event, state it met, state after the whole history)
        ([ClientEventKind.confirmed], 0, ClientState?.none, ClientState?.none),                  // confirmed without invite
        ([.invited, .blocked], 1, .invited, .invited),                                         // blocked while invited
        ([.invited, .confirmed, .unblocked], 2, .active, .active),                             // unblocked while active
        ([.invited, .confirmed, .confirmed], 2, .active, .active),                             // confirmed twice
        ([.invited, .removed, .removed], 2, .removed, .removed),                               // removed while removed
        ([.removed], 0, nil, nil),                                                             // removed before anything
        ([.invited, .invited], 1, .invited, .invited),                                         // invited twice
        ([.invited, .confirmed, .blocked, .blocked], 3, .blocked, .blocked),                   // blocked twice
        ([.invited, .removed, .confirmed], 2, .removed, .removed),                             // confirmed while removed
        ([.invited, .confirmed, .blocked, .confirmed], 3, .blocked, .blocked),                 // confirmed while blocked
    ])
    func illegal(kinds: [ClientEventKind], index: Int, from: ClientState?, final: ClientState?) {
        let events = history(kinds)
        let (timeline, illegal) = ClientTimeline.replay(events)
        #expect(illegal.count == 1)
        #expect(illegal.first?.0 == events[index])
        #expect(illegal.first?.1 == ClientTimeline.IllegalTransition(from: from, event: kinds[index]))
        #expect(timeline.changes.count == kinds.count - 1)
        #expect(!timeline.changes.map(\.instant).contains(events[index].instant))
        #expect(timeline.changes.last?.state == final)
    }

    @Test("a second confirmation neither opens nor moves a window")
    func confirmedTwiceKeepsWindow() {
        let events = history([.invited, .confirmed, .confirmed, .removed])
        let (timeline, illegal) = ClientTimeline.replay(events)
        #expect(illegal.count == 1)
        #expect(timeline.attachmentWindows == [Interval(start: events[1].instant, end: events[3].instant)])
    }

    @Test("a confirmation without an invitation opens no window")
    func confirmationWithoutInvite() {
        let (timeline, illegal) = ClientTimeline.replay(history([.confirmed, .blocked]))
        #expect(illegal.count == 2)
        #expect(timeline.attachmentWindows.isEmpty)
        #expect(timeline.changes.isEmpty)
    }

    @Test("the rest of a history still counts after an illegal event")
    func historyContinuesAfterIllegal() {
        let events = history([.invited, .blocked, .confirmed, .removed])
        let (timeline, illegal) = ClientTimeline.replay(events)
        #expect(illegal.map(\.0) == [events[1]])
        #expect(timeline.changes.map(\.state) == [.invited, .active, .removed])
        #expect(timeline.attachmentWindows == [Interval(start: events[2].instant, end: events[3].instant)])
    }

    @Test("illegal transitions describe themselves for the rejection reason")
    func illegalDescription() {
        #expect("\(ClientTimeline.IllegalTransition(from: nil, event: .confirmed))" == "illegal transition: confirmed while not yet invited")
        #expect("\(ClientTimeline.IllegalTransition(from: .active, event: .unblocked))" == "illegal transition: unblocked while active")
    }

    // MARK: attachment windows

    @Test("a window runs from confirmed (inclusive) to removed (exclusive)")
    func windowBounds() {
        let invited = at("2024-03-01T10:00:00+03:00")
        let confirmed = at("2024-03-02T10:00:00+03:00")
        let removed = at("2024-03-10T10:00:00+03:00")
        let (timeline, _) = ClientTimeline.replay([
            ev("c1", "2024-03-01T10:00:00+03:00", .invited),
            ev("c1", "2024-03-02T10:00:00+03:00", .confirmed),
            ev("c1", "2024-03-10T10:00:00+03:00", .removed),
        ])
        #expect(timeline.attachmentWindows == [Interval(start: confirmed, end: removed)])
        #expect(!timeline.isAttached(at: invited))
        #expect(!timeline.isAttached(at: at("2024-03-02T09:59:59.999999999+03:00")))
        #expect(timeline.isAttached(at: confirmed))
        #expect(timeline.isAttached(at: at("2024-03-10T09:59:59.999999999+03:00")))
        #expect(!timeline.isAttached(at: removed))
        #expect(!timeline.isAttached(at: at("2024-03-20T00:00:00+03:00")))
    }

    @Test("blocking and unblocking keep the window open; without a removal it never ends")
    func blockedStaysAttached() {
        let events = history([.invited, .confirmed, .blocked, .unblocked])
        let (timeline, _) = ClientTimeline.replay(events)
        #expect(timeline.attachmentWindows == [Interval(start: events[1].instant, end: .distantFuture)])
        #expect(timeline.isAttached(at: at("2024-03-03T15:00:00+03:00"))) // while blocked
        #expect(timeline.isAttached(at: at("2099-01-01T00:00:00Z")))
    }

    @Test("an invitation never confirmed gives no window")
    func invitedOnly() {
        let (timeline, _) = ClientTimeline.replay(history([.invited, .removed]))
        #expect(timeline.attachmentWindows.isEmpty)
        #expect(!timeline.isAttached(at: at("2024-03-01T12:00:00+03:00")))
    }

    @Test("removed → invited → confirmed gives two windows")
    func reattached() {
        let events = history([.invited, .confirmed, .removed, .invited, .confirmed])
        let (timeline, illegal) = ClientTimeline.replay(events)
        #expect(illegal.isEmpty)
        #expect(timeline.attachmentWindows == [
            Interval(start: events[1].instant, end: events[2].instant),
            Interval(start: events[4].instant, end: .distantFuture),
        ])
        // The gap between the windows is not the partner's.
        #expect(!timeline.isAttached(at: at("2024-03-04T00:00:00+03:00")))
        #expect(timeline.isAttached(at: events[4].instant))
    }

    @Test("visible intervals are the windows cut to the period")
    func visibleIntervals() {
        let events = history([.invited, .confirmed, .removed, .invited, .confirmed, .removed])
        let (timeline, _) = ClientTimeline.replay(events)
        // Windows [03-02 12:00, 03-03 12:00) and [03-05 12:00, 03-06 12:00); the period
        // 03-02 18:00 .. 03-06 18:00 (+03:00) cuts the first window and holds the second whole.
        let period = Interval(start: at("2024-03-02T18:00:00+03:00"), end: at("2024-03-06T18:00:00+03:00"))
        #expect(timeline.visibleIntervals(in: period) == [
            Interval(start: period.start, end: events[2].instant),
            Interval(start: events[4].instant, end: events[5].instant),
        ])
        let before = Interval(start: at("2024-02-01T00:00:00+03:00"), end: events[1].instant)
        #expect(timeline.visibleIntervals(in: before).isEmpty)
    }

    // MARK: state at a moment

    @Test("state(at:) replays only the events strictly before T and names the event's moment")
    func stateAt() throws {
        let events = history([.invited, .confirmed, .blocked, .removed])
        let (timeline, _) = ClientTimeline.replay(events)
        #expect(timeline.state(at: events[0].instant) == nil)
        let justAfterInvite = try #require(timeline.state(at: Instant(seconds: events[0].instant.seconds, nanoseconds: 1)))
        #expect(justAfterInvite.state == .invited)
        #expect(justAfterInvite.since == events[0].instant)
        let atConfirmation = try #require(timeline.state(at: events[1].instant))
        #expect(atConfirmation.state == .invited)
        #expect(atConfirmation.since == events[0].instant)
        let atBlock = try #require(timeline.state(at: events[2].instant))
        #expect(atBlock.state == .active)
        #expect(atBlock.since == events[1].instant)
        let afterRemoval = try #require(timeline.state(at: at("2024-12-31T00:00:00+03:00")))
        #expect(afterRemoval.state == .removed)
        #expect(afterRemoval.since == events[3].instant)
    }

    @Test("a client with no event before T does not exist for the partner at T")
    func noEventBefore() {
        let (empty, _) = ClientTimeline.replay([])
        #expect(empty.state(at: at("2024-03-01T00:00:00Z")) == nil)
        #expect(empty.attachmentWindows.isEmpty)
        let (timeline, _) = ClientTimeline.replay(history([.invited]))
        #expect(timeline.state(at: at("2024-02-29T23:59:59+03:00")) == nil)
        #expect(timeline.state(at: .distantPast) == nil)
    }

    @Test("runs without events: attached and active for all time, with no 'since'")
    func alwaysAttached() throws {
        let timeline = ClientTimeline.alwaysAttached
        #expect(timeline.alwaysActive)
        let state = try #require(timeline.state(at: at("2024-03-01T00:00:00Z")))
        #expect(state.state == .active)
        #expect(state.since == nil)
        #expect(timeline.isAttached(at: at("1970-01-01T00:00:00Z")))
        #expect(timeline.isAttached(at: at("2999-01-01T00:00:00Z")))
        let period = Interval(start: at("2024-02-29T21:00:00Z"), end: at("2024-03-31T21:00:00Z"))
        #expect(timeline.visibleIntervals(in: period) == [period])
    }
}
