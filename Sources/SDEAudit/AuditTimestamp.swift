public import SDECommon

/// An instant in UTC with millisecond precision, written as RFC 3339 `2026-11-26T14:03:07.123Z`.
///
/// The canonical text always has three fraction digits and `Z`, so one instant has one spelling and
/// the text sorts like the instant.
///
/// ```swift
/// let t = AuditTimestamp(millisecondsSinceEpoch: 1_795_701_787_123)!
/// t.description                                      // "2026-11-26T14:03:07.123Z"
/// AuditTimestamp(parsing: "2026-11-26T15:03:07.123+01:00") == t   // true
/// ```
public struct AuditTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public let millisecondsSinceEpoch: Int64

    private static let millisecondsPerDay: Int64 = 86_400_000
    private static let earliest = Int64(CivilDate(year: 1, month: 1, day: 1)!.dayNumber) * millisecondsPerDay
    private static let latest = Int64(CivilDate(year: 9999, month: 12, day: 31)!.dayNumber + 1) * millisecondsPerDay - 1

    /// The instant `milliseconds` after the Unix epoch, or `nil` outside the years 0001 to 9999.
    public init?(millisecondsSinceEpoch milliseconds: Int64) {
        guard milliseconds >= AuditTimestamp.earliest, milliseconds <= AuditTimestamp.latest else { return nil }
        self.millisecondsSinceEpoch = milliseconds
    }

    /// Parses exactly the canonical form `YYYY-MM-DDTHH:MM:SS.mmmZ`; anything else is `nil`.
    public init?(rfc3339 text: some StringProtocol) {
        var utf8 = Array(text.utf8)
        guard let parsed = utf8.withUnsafeMutableBufferPointer({ AuditTimestamp(canonical: UnsafeBufferPointer($0), at: 0, count: $0.count) })
        else { return nil }
        self = parsed
    }

    /// Parses what a person types for `--since` or `--until` (or a client sends as `since`, `until`): a date
    /// `2026-11-26` (midnight UTC) or any RFC 3339 date-time, with an optional fraction (kept to the millisecond, further
    /// digits dropped) and `Z` or a `±HH:MM` offset; an offset that moves the instant outside the years 0001 to 9999
    /// gives that range's end.
    public init?(parsing text: some StringProtocol) {
        let b = Array(text.utf8)
        guard b.count >= 10, let date = CivilDate(parsing: String(decoding: b[0..<10], as: UTF8.self)) else { return nil }
        let day = Int64(date.dayNumber) * AuditTimestamp.millisecondsPerDay
        if b.count == 10 {
            self.init(millisecondsSinceEpoch: day)
            return
        }
        guard b.count >= 20, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
            let clock = AuditTimestamp.clock(b[11..<19])
        else { return nil }
        var i = 19
        var millis: Int64 = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") {
                if digits < 3 { millis = millis * 10 + Int64(b[i] - UInt8(ascii: "0")) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in min(digits, 3)..<3 { millis *= 10 }
        }
        var offset: Int64 = 0
        let zone = b[i...]
        if zone.elementsEqual("Z".utf8) || zone.elementsEqual("z".utf8) {
            offset = 0
        } else {
            guard zone.count == 6, zone.first == UInt8(ascii: "+") || zone.first == UInt8(ascii: "-"), b[i + 3] == UInt8(ascii: ":"),
                let hours = AuditTimestamp.number(b[(i + 1)..<(i + 3)]), let minutes = AuditTimestamp.number(b[(i + 4)..<(i + 6)]),
                hours < 24, minutes < 60
            else { return nil }
            offset = (hours * 60 + minutes) * 60_000 * (zone.first == UInt8(ascii: "-") ? -1 : 1)
        }
        self.init(millisecondsSinceEpoch: min(max(day + clock + millis - offset, AuditTimestamp.earliest), AuditTimestamp.latest))
    }

    /// Parses the canonical form from `count` bytes at `start`; used by the JSONL decoder.
    init?(canonical b: UnsafeBufferPointer<UInt8>, at start: Int, count: Int) {
        guard count == 24, b[start + 4] == UInt8(ascii: "-"), b[start + 7] == UInt8(ascii: "-"), b[start + 10] == UInt8(ascii: "T"),
            b[start + 19] == UInt8(ascii: "."), b[start + 23] == UInt8(ascii: "Z"),
            let year = AuditTimestamp.number(b[start..<(start + 4)]), let month = AuditTimestamp.number(b[(start + 5)..<(start + 7)]),
            let dayOfMonth = AuditTimestamp.number(b[(start + 8)..<(start + 10)]),
            let date = CivilDate(year: Int(year), month: Int(month), day: Int(dayOfMonth)),
            let clock = AuditTimestamp.clock(b[(start + 11)..<(start + 19)]),
            let millis = AuditTimestamp.number(b[(start + 20)..<(start + 23)])
        else { return nil }
        self.init(millisecondsSinceEpoch: Int64(date.dayNumber) * AuditTimestamp.millisecondsPerDay + clock + millis)
    }

    /// The UTC calendar date of this instant (the JSONL mirror keeps one file per UTC day).
    public var date: CivilDate {
        CivilDate(dayNumber: Int(millisecondsSinceEpoch.floorDivided(by: AuditTimestamp.millisecondsPerDay)))
    }

    /// The canonical RFC 3339 text, e.g. `2026-11-26T14:03:07.123Z`.
    public var description: String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        append(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the canonical text (24 bytes) to `out`.
    func append(to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: 24))
        out.withUnsafeMutableBufferPointer { write(into: $0.baseAddress! + start) }
    }

    /// Writes the canonical text (24 bytes) at `p`.
    func write(into p: UnsafeMutablePointer<UInt8>) {
        let date = self.date
        let inDay = Int(millisecondsSinceEpoch - Int64(date.dayNumber) * AuditTimestamp.millisecondsPerDay)
        func two(_ value: Int, at i: Int) {
            p[i] = UInt8(truncatingIfNeeded: 0x30 + value / 10)
            p[i + 1] = UInt8(truncatingIfNeeded: 0x30 + value % 10)
        }
        two(date.year / 100, at: 0)
        two(date.year % 100, at: 2)
        p[4] = UInt8(ascii: "-")
        two(date.month, at: 5)
        p[7] = UInt8(ascii: "-")
        two(date.day, at: 8)
        p[10] = UInt8(ascii: "T")
        two(inDay / 3_600_000, at: 11)
        p[13] = UInt8(ascii: ":")
        two(inDay / 60_000 % 60, at: 14)
        p[16] = UInt8(ascii: ":")
        two(inDay / 1000 % 60, at: 17)
        p[19] = UInt8(ascii: ".")
        p[20] = UInt8(truncatingIfNeeded: 0x30 + inDay % 1000 / 100)
        two(inDay % 100, at: 21)
        p[23] = UInt8(ascii: "Z")
    }

    /// Earlier instants sort first.
    public static func < (lhs: AuditTimestamp, rhs: AuditTimestamp) -> Bool { lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch }

    /// `HH:MM:SS` as milliseconds into the day.
    private static func clock<Bytes: Collection>(_ b: Bytes) -> Int64? where Bytes.Element == UInt8, Bytes.Index == Int {
        let s = b.startIndex
        guard b.count == 8, b[s + 2] == UInt8(ascii: ":"), b[s + 5] == UInt8(ascii: ":"),
            let hours = number(b[s..<(s + 2)]), let minutes = number(b[(s + 3)..<(s + 5)]), let seconds = number(b[(s + 6)..<(s + 8)]),
            hours < 24, minutes < 60, seconds < 60
        else { return nil }
        return ((hours * 60 + minutes) * 60 + seconds) * 1000
    }

    private static func number<Bytes: Collection>(_ b: Bytes) -> Int64? where Bytes.Element == UInt8 {
        var value: Int64 = 0
        for c in b {
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(c - UInt8(ascii: "0"))
        }
        return value
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}
