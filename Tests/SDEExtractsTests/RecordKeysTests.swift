import Crypto
import Foundation
import SDECommon
import SDEExtracts
import Testing

@Suite struct RecordKeysTests {
    /// Perturbation key bytes 0x20, 0x21, ..., 0x3f (not the pseudonymisation fixture's key).
    static let keyHex = (32..<64).map { String(format: "%02x", $0) }.joined()
    static let recordKeys = RecordKeys(key: try! PerturbationKey(fileContents: Array(keyHex.utf8)))
    /// The pseudonym pinned in ``PseudonymiserTests``.
    static let pseudonym = Hex.decode("dd5c602eeb31d60c7c0d662c897231dda00e13cdf945b14cad185a4a7125826c")!

    @Test func recordKeyIsTheFirstEightBytesOfTheHMACShiftedRight() {
        let code = Array(HMAC<SHA256>.authenticationCode(for: Self.pseudonym, using: SymmetricKey(data: Hex.decode(Self.keyHex)!)))
        let expected = Int64(code.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } >> 1)
        #expect(Self.recordKeys.recordKey(personID: Self.pseudonym) == expected)
        // Pinned (computed with Python's hmac module) so that a change of derivation cannot go unnoticed: it would change
        // every cell key, and so the noise of every population already published.
        #expect(Self.recordKeys.recordKey(personID: Self.pseudonym) == 2_373_149_195_723_232_013)
        #expect(Self.recordKeys.keyCheckValue == "75c293ca4909799713b73a438071be6d90199494575b832c91a0eba6692e6853")
    }

    @Test func recordKeysAreNonNegativeAndUniqueOverManyPersons() {
        var seen = Set<Int64>()
        var lowBitsSet = [Int](repeating: 0, count: 32)
        let count = 100_000
        for i in 0..<count {
            var pseudonym = [UInt8](repeating: 0, count: 32)
            withUnsafeBytes(of: UInt64(i).bigEndian) { pseudonym.replaceSubrange(24..<32, with: $0) }
            let key = Self.recordKeys.recordKey(personID: pseudonym)
            #expect(key >= 0)
            seen.insert(key)
            for bit in 0..<32 where key & (1 << bit) != 0 { lowBitsSet[bit] += 1 }
        }
        #expect(seen.count == count)
        // Each of the low 32 bits (what a cell key sums) is set about half the time: within 1% of 50,000 (over 6 sigma).
        for (bit, n) in lowBitsSet.enumerated() { #expect(abs(n - count / 2) < count / 100, "bit \(bit)") }
    }

    @Test func differentKeysGiveDifferentRecordKeysAndCheckValues() {
        let other = RecordKeys(key: .generate())
        #expect(other.recordKey(personID: Self.pseudonym) != Self.recordKeys.recordKey(personID: Self.pseudonym))
        #expect(other.keyCheckValue != Self.recordKeys.keyCheckValue)
    }

    @Test func theSameKeyFileUsedForBothPurposesIsRecognisable() {
        let recordKeys = RecordKeys(key: try! PerturbationKey(fileContents: Array(Fixture.keyHex.utf8)))
        #expect(recordKeys.pseudonymisationCheckValue == Fixture.pseudonymiser.keyCheckValue)
        #expect(recordKeys.keyCheckValue != Fixture.pseudonymiser.keyCheckValue)
    }

    @Test func perturbationKeyFileRoundTripsWithMode0600AndIsNeverOverwrittenOrPrinted() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(directory) }
        let path = directory + "/perturbation.key"
        let key = PerturbationKey.generate()
        try key.write(to: path)
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o600)
        // A file written by `data keygen` (a pseudonymisation key's form) reads as a perturbation key too.
        try PseudonymisationKey.generate().write(to: directory + "/made-by-keygen.key")
        _ = try PerturbationKey.read(from: directory + "/made-by-keygen.key")
        let read = try PerturbationKey.read(from: path)
        #expect(RecordKeys(key: read).recordKey(personID: Self.pseudonym) == RecordKeys(key: key).recordKey(personID: Self.pseudonym))
        let error = #expect(throws: ExtractError.self) { try PerturbationKey.generate().write(to: path) }
        #expect(error?.code == .alreadyExists)
        #expect("\(key)" == "PerturbationKey(redacted)" && String(reflecting: key) == "PerturbationKey(redacted)")
    }
}
