import BalanceSupport
/// Where a record came from: an index into the run's file list and the 1-based line it starts on.
public struct SourceLocation: Hashable, Sendable, Comparable {
    public var file: Int32
    public var line: Int32

    public init(file: Int, line: Int) {
        self.file = Int32(truncatingIfNeeded: file)
        self.line = Int32(truncatingIfNeeded: line)
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line) < (b.file, b.line)
    }
}

/// What a transaction does to the balance.
public enum TransactionKind: String, Sendable, CaseIterable, Comparable {
    /// Пополнение: money paid into the balance.
    case topup
    /// Списание: money the cloud took for a service.
    case charge
    /// The return of a charge to the balance; lowers that service's spend.
    case refund

    public static func < (a: TransactionKind, b: TransactionKind) -> Bool { a.rawValue < b.rawValue }

    /// The kind a type field's bytes name exactly, if any.
    @inline(__always)
    package init?(bytes: UnsafeBufferPointer<UInt8>) {
        // Byte by byte: the generic `elementsEqual` over a string's UTF-8 view showed in profiles.
        func `is`(_ word: StaticString) -> Bool {
            bytes.count == word.utf8CodeUnitCount
                && (0..<bytes.count).allSatisfy { bytes[$0] == word.utf8Start[$0] }
        }
        if `is`("charge") { self = .charge } else if `is`("topup") { self = .topup } else if `is`("refund") { self = .refund } else { return nil }
    }

    /// Sign of the effect on the balance.
    public func signed(_ amount: Money) -> Money { self == .charge ? -amount : amount }
}

/// One top-up, charge or refund from a transactions export.
public struct Transaction: Sendable, Equatable {
    public var id: String
    public var instant: Instant
    public var clientID: String
    public var kind: TransactionKind
    /// Empty for top-ups.
    public var service: String
    /// Always positive; `kind` gives the sign.
    public var amount: Money
    public var currency: String
    public var description: String
    public var source: SourceLocation

    public init(id: String, instant: Instant, clientID: String, kind: TransactionKind, service: String,
                amount: Money, currency: String, description: String, source: SourceLocation) {
        self.id = id
        self.instant = instant
        self.clientID = clientID
        self.kind = kind
        self.service = service
        self.amount = amount
        self.currency = currency
        self.description = description
        self.source = source
    }

    /// The effect on the client's balance.
    public var net: Money { kind.signed(amount) }

    /// Equal in every field that the export states (overlapping exports repeat a record this way).
    public func sameFacts(as other: Transaction) -> Bool {
        id.bytesEqual(other.id) && instant == other.instant && clientID.bytesEqual(other.clientID) && kind == other.kind
            && service.bytesEqual(other.service) && amount == other.amount && currency.bytesEqual(other.currency)
            && description.bytesEqual(other.description)
    }
}

/// The balance the cabinet showed at one moment: the anchor of every balance of that client.
public struct BalanceCheckpoint: Sendable, Equatable {
    public var balance: Money
    public var at: Instant
    /// The currency of `balance` (`balance_currency`); `nil`: the client's one currency (SPEC §2.1:
    /// a balance is per currency, so a client with money in two needs it named).
    public var currency: String?

    public init(balance: Money, at: Instant, currency: String? = nil) {
        self.balance = balance
        self.at = at
        self.currency = currency
    }
}

/// A client account as the partner cabinet's "add client" form holds it.
public struct ClientRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    public var email: String
    public var phone: String
    public var partnerID: String
    public var checkpoint: BalanceCheckpoint?
    public var source: SourceLocation

    public init(id: String, name: String, email: String, phone: String, partnerID: String,
                checkpoint: BalanceCheckpoint?, source: SourceLocation) {
        self.id = id
        self.name = name
        self.email = email
        self.phone = phone
        self.partnerID = partnerID
        self.checkpoint = checkpoint
        self.source = source
    }

    public func sameFacts(as other: ClientRecord) -> Bool {
        id.bytesEqual(other.id) && name.bytesEqual(other.name) && email.bytesEqual(other.email) && phone.bytesEqual(other.phone)
            && partnerID.bytesEqual(other.partnerID) && checkpoint == other.checkpoint
    }
}

/// A change in a client's relation to its partner.
public enum ClientEventKind: String, Sendable, CaseIterable {
    case invited, confirmed, blocked, unblocked, removed

    /// Order used for events of one client at the same instant: the order a legal history takes.
    var sameInstantRank: Int {
        switch self {
        case .removed: return 0
        case .invited: return 1
        case .confirmed: return 2
        case .blocked: return 3
        case .unblocked: return 4
        }
    }
}

public struct ClientEvent: Sendable, Equatable {
    public var clientID: String
    public var instant: Instant
    public var kind: ClientEventKind
    public var source: SourceLocation

    public init(clientID: String, instant: Instant, kind: ClientEventKind, source: SourceLocation) {
        self.clientID = clientID
        self.instant = instant
        self.kind = kind
        self.source = source
    }

    public func sameFacts(as other: ClientEvent) -> Bool {
        clientID.bytesEqual(other.clientID) && instant == other.instant && kind == other.kind
    }
}
