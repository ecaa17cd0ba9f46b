import Foundation
import SDEExtracts
import Testing

@Suite struct NHSNumberTests {
    @Test(arguments: ["9434765919", "4010232137", "943 476 5919", "401 023 2137", "0000000000"])
    func validNumbersNormalise(_ text: String) throws {
        let number = try NHSNumber(validating: text)
        #expect(number.digits == text.replacingOccurrences(of: " ", with: ""))
    }

    @Test(arguments: ["9434765919", "4010232137"])
    func everyOtherCheckDigitIsRejected(_ valid: String) {
        let prefix = valid.dropLast()
        for digit in 0...9 where String(digit) != String(valid.last!) {
            #expect(throws: NHSNumber.ValidationError.badCheckDigit) { try NHSNumber(validating: prefix + String(digit)) }
        }
    }

    @Test func prefixWhoseCheckDigitWouldBeTenHasNoValidNumber() throws {
        // Find such a prefix with an independent computation of the weighted sum.
        let prefix = try #require(
            (100_000_000..<100_001_000).lazy.map { String($0) }.first { p in
                let sum = zip(p.utf8, (2...10).reversed()).reduce(0) { $0 + Int($1.0 - 48) * $1.1 }
                return 11 - sum % 11 == 10
            })
        for digit in 0...9 {
            #expect(throws: NHSNumber.ValidationError.badCheckDigit) { try NHSNumber(validating: prefix + String(digit)) }
        }
    }

    @Test(arguments: ["943476591", "94347659190", "943-476-5919", "94 3476 5919", "943 4765919", "943476591X", " 9434765919", "９434765919"])
    func malformedNumbersAreRejected(_ text: String) {
        #expect(throws: NHSNumber.ValidationError.notTenDigits) { try NHSNumber(validating: text) }
    }

    @Test func emptyIsMissing() {
        #expect(throws: NHSNumber.ValidationError.missing) { try NHSNumber(validating: "") }
    }

    @Test func descriptionsNeverShowTheNumber() throws {
        let number = try NHSNumber(validating: "9434765919")
        #expect(!"\(number)".contains("943"))
        #expect(!String(reflecting: number).contains("943"))
        #expect("\(NHSNumber.ValidationError.badCheckDigit)" == "bad check digit")
    }
}
