/// Where two copies of the chain (the database and the JSONL mirror) first disagree.
public struct AuditStreamDifference: Error, Sendable, Hashable, CustomStringConvertible {
    /// How the copies disagree.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case differentEvents = "different_events"
            case leftShorter = "left_shorter"
            case rightShorter = "right_shorter"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Both copies have an event at this position, and they differ.
        public static let differentEvents = Kind(.differentEvents)
        /// The left copy ends here; the right one goes on.
        public static let leftShorter = Kind(.leftShorter)
        /// The right copy ends here; the left one goes on.
        public static let rightShorter = Kind(.rightShorter)

        /// The snake_case name of the kind.
        public var description: String { base.rawValue }
    }

    /// How the copies disagree.
    public let kind: Kind
    /// 1-based position of the first disagreement.
    public let position: Int
    /// Sequence number there (of the left event, else the right one).
    public let sequence: Int64
    /// What is wrong, for people.
    public let message: String

    fileprivate init(_ kind: Kind, position: Int, sequence: Int64, _ message: String) {
        self.kind = kind
        self.position = position
        self.sequence = sequence
        self.message = message
    }

    /// `sequence 12: different_events: ...`.
    public var description: String { "sequence \(sequence): \(kind): \(message)" }
}

/// Compares two copies of the chain event for event, e.g. the database table and the JSONL mirror.
///
/// Feed both streams in order, one pair at a time, with `nil` for a stream that has ended. The copies must hold
/// the same events in the same order; the first disagreement is reported and the comparison stops.
///
/// ```swift
/// var comparison = AuditStreamComparison(leftName: "database", rightName: "mirror")
/// repeat {
///     let (a, b) = (try await rows.next(), try await lines.next())
///     if let difference = comparison.consume(left: a, right: b) { throw difference }
/// } while !comparison.isFinished
/// ```
public struct AuditStreamComparison: Sendable {
    /// Name of the left copy in messages.
    public let leftName: String
    /// Name of the right copy in messages.
    public let rightName: String
    /// The first disagreement, once found.
    public private(set) var difference: AuditStreamDifference?
    /// Whether both streams ended or a difference was found.
    public private(set) var isFinished = false
    /// Pairs of events found equal so far.
    public private(set) var matched = 0

    /// A comparison of two named copies.
    public init(leftName: String = "database", rightName: String = "mirror") {
        self.leftName = leftName
        self.rightName = rightName
    }

    /// Compares the next pair; returns the difference when this pair is the first disagreement.
    @discardableResult
    public mutating func consume(left: AuditEvent?, right: AuditEvent?) -> AuditStreamDifference? {
        guard !isFinished else { return nil }
        let position = matched + 1
        switch (left, right) {
        case (nil, nil):
            isFinished = true
            return nil
        case (nil, let right?):
            difference = AuditStreamDifference(
                .leftShorter, position: position, sequence: right.sequence,
                "\(leftName) ends after \(matched) events; \(rightName) continues with sequence \(right.sequence)")
        case (let left?, nil):
            difference = AuditStreamDifference(
                .rightShorter, position: position, sequence: left.sequence,
                "\(rightName) ends after \(matched) events; \(leftName) continues with sequence \(left.sequence)")
        case (let left?, let right?):
            guard left.hash != right.hash || left != right else {
                matched += 1
                return nil
            }
            let what = left.sequence == right.sequence ? "the events differ" : "\(rightName) has sequence \(right.sequence) here"
            difference = AuditStreamDifference(
                .differentEvents, position: position, sequence: left.sequence,
                "\(leftName) has sequence \(left.sequence) (hash \(left.hash)) but \(what) (hash \(right.hash))")
        }
        isFinished = true
        return difference
    }

    /// The first difference between two in-memory sequences of events, or `nil` when they agree.
    public static func firstDifference(
        _ left: some Sequence<AuditEvent>, _ right: some Sequence<AuditEvent>, leftName: String = "database", rightName: String = "mirror"
    ) -> AuditStreamDifference? {
        var comparison = AuditStreamComparison(leftName: leftName, rightName: rightName)
        var l = left.makeIterator()
        var r = right.makeIterator()
        while !comparison.isFinished { comparison.consume(left: l.next(), right: r.next()) }
        return comparison.difference
    }
}
