/// A valid NHS number: ten digits whose last is the modulus 11 check digit of the first nine.
///
/// Extracts may print it plain (`9434765919`) or spaced 3-3-4 (`943 476 5919`); both normalise to the
/// ten digits. The description is redacted so a number cannot reach a log by accident:
///
/// ```swift
/// let n = try NHSNumber(validating: "943 476 5919")
/// n.digits        // "9434765919"
/// "\(n)"          // "NHSNumber(redacted)"
/// ```
public struct NHSNumber: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Why a text is not a valid NHS number; the description never contains the text itself.
    public struct ValidationError: Error, Sendable, Hashable, CustomStringConvertible {
        private enum Code: Sendable, Hashable { case missing, notTenDigits, badCheckDigit }
        private let code: Code
        private init(_ code: Code) { self.code = code }

        /// The field is empty.
        public static let missing = ValidationError(.missing)
        /// Not ten digits, plain or spaced 3-3-4.
        public static let notTenDigits = ValidationError(.notTenDigits)
        /// Ten digits, but the last is not the modulus 11 check digit of the first nine (or that check digit would be 10).
        public static let badCheckDigit = ValidationError(.badCheckDigit)

        /// `missing`, `not 10 digits` or `bad check digit`.
        public var description: String {
            switch code {
            case .missing: "missing"
            case .notTenDigits: "not 10 digits"
            case .badCheckDigit: "bad check digit"
            }
        }
    }

    /// The ten digits, without spaces.
    public let digits: String

    /// Validates and normalises `text` (plain or spaced 3-3-4).
    public init(validating text: String) throws(ValidationError) {
        var ascii = NHSDigits()
        try Array(text.utf8).withUnsafeBytes { field in
            withUnsafeMutableBytes(of: &ascii.bytes) { out in
                Result { () throws(ValidationError) in try NHSNumber.normalise(field, into: out.baseAddress!) }
            }
        }.get()
        digits = withUnsafeBytes(of: ascii.bytes) { String(decoding: $0.prefix(10), as: UTF8.self) }
    }

    /// `NHSNumber(redacted)`: the number itself is only available through ``digits``.
    public var description: String { "NHSNumber(redacted)" }

    /// `NHSNumber(redacted)`.
    public var debugDescription: String { description }

    /// Checks `field` (plain or spaced) and writes its ten digits as ASCII to `out`.
    @inline(__always)
    static func normalise(_ field: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) throws(ValidationError) {
        let zero = UInt8(ascii: "0")
        switch field.count {
        case 0:
            throw .missing
        case 10:
            for i in 0..<10 { out.storeBytes(of: field[i], toByteOffset: i, as: UInt8.self) }
        case 12 where field[3] == UInt8(ascii: " ") && field[7] == UInt8(ascii: " "):
            var j = 0
            for i in 0..<12 where i != 3 && i != 7 {
                out.storeBytes(of: field[i], toByteOffset: j, as: UInt8.self)
                j += 1
            }
        default:
            throw .notTenDigits
        }
        var sum = 0
        for i in 0..<10 {
            let d = out.load(fromByteOffset: i, as: UInt8.self) &- zero
            guard d <= 9 else { throw .notTenDigits }
            if i < 9 { sum += Int(d) * (10 - i) }
        }
        guard let check = checkDigit(weightedSum: sum), check == Int(out.load(fromByteOffset: 9, as: UInt8.self) - zero) else {
            throw .badCheckDigit
        }
    }

    /// The check digit for a weighted sum of the first nine digits (weights 10 down to 2), or `nil` when it would be 10.
    @inline(__always)
    static func checkDigit(weightedSum sum: Int) -> Int? {
        let check = 11 - sum % 11
        switch check {
        case 11: return 0
        case 10: return nil
        default: return check
        }
    }

    /// The check digit of a nine-digit prefix, or `nil` when it would be 10 (no valid number has that prefix).
    static func checkDigit(prefix: Int) -> Int? {
        var sum = 0
        var rest = prefix
        for weight in 2...10 {
            sum += (rest % 10) * weight
            rest /= 10
        }
        return checkDigit(weightedSum: sum)
    }
}
