import Crypto

/// HMAC-SHA256 under a 32-byte key with the padded key blocks absorbed once (RFC 2104), so each code of a short
/// message costs two SHA-256 blocks: what pseudonymising and deriving record keys do for every row of an extract.
struct PaddedHMAC: Sendable {
    /// SHA-256 states after absorbing the key XOR the HMAC inner and outer pads.
    private let innerPadded: SHA256
    private let outerPadded: SHA256

    /// The state for `key`, which must be at most one SHA-256 block (our keys are 32 bytes).
    init(key: SymmetricKey) {
        // A key shorter than SHA-256's 64-byte block is zero-padded rather than hashed.
        var block = [UInt8](repeating: 0, count: SHA256.blockByteCount)
        key.withUnsafeBytes { block.replaceSubrange(0..<$0.count, with: $0) }
        var inner = SHA256()
        inner.update(data: block.map { $0 ^ 0x36 })
        var outer = SHA256()
        outer.update(data: block.map { $0 ^ 0x5C })
        innerPadded = inner
        outerPadded = outer
    }

    /// HMAC-SHA256(key, `message`).
    @inline(__always)
    func authenticationCode(_ message: UnsafeRawBufferPointer) -> SHA256.Digest {
        var inner = innerPadded
        inner.update(bufferPointer: message)
        var outer = outerPadded
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize()
    }
}
