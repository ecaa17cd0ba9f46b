/// A calendar date without time or zone (proleptic Gregorian), as used in extracts and policy files.
///
/// ```swift
/// let d = CivilDate(parsing: "2024-02-29")!   // valid: leap year
/// d.adding(days: 1).description               // "2024-03-01"
/// ```
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// A date, or `nil` when the fields do not name a real day (1 ≤ year ≤ 9999).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            day >= 1, day <= CivilDate.daysInMonth(year: year, month: month)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly `YYYY-MM-DD`; anything else is `nil`.
    public init?(parsing text: some StringProtocol) {
        let b = Array(text.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            let y = CivilDate.digits(b[0..<4]), let m = CivilDate.digits(b[5..<7]), let d = CivilDate.digits(b[8..<10])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// The date `dayNumber` days after 1970-01-01 (negative before it).
    public init(dayNumber: Int) {
        // Howard Hinnant's civil_from_days.
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.month = m
        self.day = d
    }

    /// Days since 1970-01-01.
    public var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// This date moved by `days`.
    public func adding(days: Int) -> CivilDate { CivilDate(dayNumber: dayNumber + days) }

    /// Whole days from `self` to `other` (positive when `other` is later).
    public func days(until other: CivilDate) -> Int { other.dayNumber - dayNumber }

    /// The quarter this date falls in.
    public var quarter: Quarter { Quarter(year: year, number: (month - 1) / 3 + 1)! }

    /// `YYYY-MM-DD`.
    public var description: String {
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Number of days in a month of a year.
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func digits(_ bytes: ArraySlice<UInt8>) -> Int? {
        var v = 0
        for b in bytes {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            v = v * 10 + Int(b - UInt8(ascii: "0"))
        }
        return v
    }
}

/// A calendar quarter such as `2023Q2` (April to June 2023).
public struct Quarter: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    /// 1 to 4.
    public let number: Int

    /// A quarter, or `nil` unless 1 ≤ number ≤ 4 and 1 ≤ year ≤ 9999.
    public init?(year: Int, number: Int) {
        guard (1...9999).contains(year), (1...4).contains(number) else { return nil }
        self.year = year
        self.number = number
    }

    /// Parses exactly `YYYYQn`.
    public init?(parsing text: some StringProtocol) {
        let b = Array(text.utf8)
        guard b.count == 6, b[4] == UInt8(ascii: "Q"), let y = CivilDate.digits(b[0..<4]), let q = CivilDate.digits(b[5..<6])
        else { return nil }
        self.init(year: y, number: q)
    }

    /// First day of the quarter.
    public var firstDay: CivilDate { CivilDate(year: year, month: (number - 1) * 3 + 1, day: 1)! }

    /// Last day of the quarter.
    public var lastDay: CivilDate { next.firstDay.adding(days: -1) }

    /// The following quarter.
    public var next: Quarter { number == 4 ? Quarter(year: year + 1, number: 1)! : Quarter(year: year, number: number + 1)! }

    /// `YYYYQn`.
    public var description: String { "\(year)Q\(number)" }

    public static func < (lhs: Quarter, rhs: Quarter) -> Bool { (lhs.year, lhs.number) < (rhs.year, rhs.number) }
}
