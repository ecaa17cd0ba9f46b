import SDEAudit
import SDECommon
import Testing

@Suite struct AuditKeyTests {
    /// RFC 8032 section 7.1, test 1: the seed as PKCS #8 PEM, and the public key as OpenSSL prints it.
    static let rfcPrivatePEM = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
        -----END PRIVATE KEY-----
        """
    static let rfcPublicPEM = """
        -----BEGIN PUBLIC KEY-----
        MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=
        -----END PUBLIC KEY-----

        """

    @Test func readsStandardPEMAndDerivesTheRFCPublicKey() throws {
        let key = try AuditSigningKey(pem: AuditKeyTests.rfcPrivatePEM)
        #expect(Hex.encode(key.publicKey.rawRepresentation) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        #expect(key.publicKey.pem == AuditKeyTests.rfcPublicPEM)
        #expect(key.pem == AuditKeyTests.rfcPrivatePEM + "\n")
        #expect(try AuditPublicKey(pem: AuditKeyTests.rfcPublicPEM) == key.publicKey)
        #expect(key.publicKey.keyID == String(Hex.sha256(key.publicKey.rawRepresentation).prefix(16)))
        #expect(key.publicKey.description == "ed25519:\(key.publicKey.keyID)")
    }

    @Test func generatedKeysRoundTripThroughTheirFiles() throws {
        let key = AuditSigningKey()
        let reread = try AuditSigningKey(pem: key.pem.replacing("\n", with: "\r\n"))
        #expect(reread.publicKey == key.publicKey)
        #expect(try AuditPublicKey(pem: key.publicKey.pem) == key.publicKey)
        #expect(try AuditPublicKey(rawRepresentation: key.publicKey.rawRepresentation) == key.publicKey)
        #expect(AuditSigningKey().publicKey != key.publicKey)

        // A checkpoint signed with the reread key verifies with the original public key.
        var chain = AuditChain()
        let checkpoint = try chain.appendCheckpoint(at: ChainFixture.time(0), signedBy: reread)
        var verifier = AuditVerifier(trustedKeys: [try AuditPublicKey(pem: key.publicKey.pem)])
        let accepted = verifier.consume(checkpoint)
        #expect(accepted)
    }

    @Test(arguments: [
        "", "hello", AuditKeyTests.rfcPublicPEM,
        AuditKeyTests.rfcPrivatePEM.replacing("MC4CAQAw", with: "MC4CAQEw"),
        AuditKeyTests.rfcPrivatePEM.replacing("rAMcrn9g", with: "rAMcrn9"),
        AuditKeyTests.rfcPrivatePEM.replacing("rAMcrn9g", with: "rAMcrn9!"),
    ])
    func rejectsWhatIsNotAnEd25519PrivateKey(text: String) {
        let error = #expect(throws: AuditError.self) { try AuditSigningKey(pem: text) }
        #expect(error?.code == .invalidKey)
    }

    @Test func rejectsWhatIsNotAnEd25519PublicKey() {
        #expect(throws: AuditError.self) { try AuditPublicKey(pem: AuditKeyTests.rfcPrivatePEM) }
        #expect(throws: AuditError.self) { try AuditPublicKey(rawRepresentation: [1, 2, 3]) }
    }
}
