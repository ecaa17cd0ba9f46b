import Crypto
import Foundation
import SDECommon
import SDEExtracts
import Testing

@Suite struct PseudonymiserTests {
    @Test func personIDIsHMACSHA256OfTheTenDigits() throws {
        let id = Fixture.pseudonymiser.personID(for: try NHSNumber(validating: "943 476 5919"))
        let expected = HMAC<SHA256>.authenticationCode(for: Array("9434765919".utf8), using: SymmetricKey(data: Fixture.keyBytes))
        #expect(id.count == 32)
        #expect(id == Array(expected))
        // Pinned (computed with Python's hmac module) so that a change of algorithm or normalisation cannot go unnoticed.
        #expect(Hex.encode(id) == "dd5c602eeb31d60c7c0d662c897231dda00e13cdf945b14cad185a4a7125826c")
    }

    @Test func keyCheckValueIsHMACOfTheFixedLabel() {
        let expected = HMAC<SHA256>.authenticationCode(for: Array("sde-broker key check v1".utf8), using: SymmetricKey(data: Fixture.keyBytes))
        #expect(Fixture.pseudonymiser.keyCheckValue == Hex.encode(expected))
        #expect(Fixture.pseudonymiser.keyCheckValue == "3ede830a6a76143e7c09af3faba6c40ff0fc8da4e8daad2bd8fac97e6753b98f")
        #expect(Fixture.pseudonymiser.keyCheckValue.count == 64)
    }

    @Test func differentKeysGiveDifferentIDs() throws {
        let number = try NHSNumber(validating: "9434765919")
        let other = Pseudonymiser(key: .generate())
        #expect(other.personID(for: number) != Fixture.pseudonymiser.personID(for: number))
        #expect(other.keyCheckValue != Fixture.pseudonymiser.keyCheckValue)
    }

    @Test func sameNumberInTwoFilesGivesTheSameID() throws {
        let (care, _) = try Fixture.read(Fixture.careHeader + "\n" + Fixture.careRow(["nhs_number": "401 023 2137"]) + "\n")
        let (hospital, _) = try Fixture.read(Fixture.hospitalHeader + "\n" + Fixture.hospitalRow() + "\n", name: "hospital_spells.csv")
        let careID = try #require(care.first?.care).personID
        let hospitalID = try #require(hospital.first?.hospital).personID
        #expect(careID == hospitalID)
        #expect(careID == Fixture.pseudonymiser.personID(for: try NHSNumber(validating: "4010232137")))
    }

    @Test func keyFileRoundTripsWithMode0600AndIsNeverOverwritten() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(directory) }
        let path = directory + "/sde.key"
        let key = PseudonymisationKey.generate()
        try key.write(to: path)
        let contents = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(contents.count == 65)
        #expect(contents.last == 0x0A)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let number = try NHSNumber(validating: "9434765919")
        let read = try PseudonymisationKey.read(from: path)
        #expect(Pseudonymiser(key: read).personID(for: number) == Pseudonymiser(key: key).personID(for: number))
        let error = #expect(throws: ExtractError.self) { try PseudonymisationKey.generate().write(to: path) }
        #expect(error?.code == .alreadyExists)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == contents)
    }

    @Test func keyFileAcceptsTrailingWhitespace() throws {
        let key = try PseudonymisationKey(fileContents: Array((Fixture.keyHex + " \r\n\n\t").utf8))
        #expect(key.fileContents == Array((Fixture.keyHex + "\n").utf8))
    }

    @Test(arguments: [
        "", "\n", String(Fixture.keyHex.dropLast()), Fixture.keyHex + "0", Fixture.keyHex.uppercased(), " " + Fixture.keyHex,
        String(Fixture.keyHex.dropLast()) + "g", Fixture.keyHex + "\nextra", "-----BEGIN PRIVATE KEY-----",
    ])
    func malformedKeyFilesAreRejectedWithoutEchoingContent(_ text: String) {
        let error = #expect(throws: ExtractError.self) { try PseudonymisationKey(fileContents: Array(text.utf8)) }
        #expect(error?.code == .badKeyFile)
        #expect(error?.description == "key file: not a 64-hex-digit key")
    }

    @Test func missingAndOversizedKeyFiles() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(directory) }
        let missing = #expect(throws: ExtractError.self) { try PseudonymisationKey.read(from: directory + "/none.key") }
        #expect(missing?.code == .io)
        let big = directory + "/big.key"
        try Data(repeating: 0x61, count: 100_000).write(to: URL(fileURLWithPath: big))
        let oversized = #expect(throws: ExtractError.self) { try PseudonymisationKey.read(from: big) }
        #expect(oversized?.code == .badKeyFile)
    }

    @Test func keysAreRedactedInDescriptions() {
        let key = Fixture.key
        #expect("\(key)" == "PseudonymisationKey(redacted)")
        #expect(!String(reflecting: key).contains(Fixture.keyHex.prefix(8)))
    }
}
