import Crypto
import Foundation
import SDECommon

/// The secret behind every pseudonym: 32 random bytes that never enter the database or a log.
///
/// On disk it is 64 lower-case hex digits and a newline, in a file only its owner can read:
///
/// ```swift
/// try PseudonymisationKey.generate().write(to: "sde.key")   // refuses to overwrite
/// let key = try PseudonymisationKey.read(from: "sde.key")
/// ```
public struct PseudonymisationKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let key: SymmetricKey

    private init(key: SymmetricKey) { self.key = key }

    /// A fresh key from the system's cryptographically secure random number generator.
    public static func generate() -> PseudonymisationKey { PseudonymisationKey(key: SymmetricKey(size: .bits256)) }

    /// Parses the contents of a key file: exactly 64 lower-case hex digits, then optional trailing whitespace.
    public init(fileContents: some Collection<UInt8>) throws(ExtractError) {
        var bytes = Array(fileContents)
        while let last = bytes.last, last == 0x20 || last == 0x09 || last == 0x0A || last == 0x0D { bytes.removeLast() }
        let isLowerHex = bytes.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        guard bytes.count == 64, isLowerHex, let raw = Hex.decode(String(decoding: bytes, as: UTF8.self)) else {
            throw .badKeyFile
        }
        key = SymmetricKey(data: raw)
    }

    /// Reads a key file (see ``init(fileContents:)``).
    public static func read(from path: String) throws(ExtractError) -> PseudonymisationKey {
        guard let contents = try InputFile.contents(of: path, limit: 4096) else { throw .badKeyFile }
        return try PseudonymisationKey(fileContents: contents)
    }

    /// The key file's contents: 64 lower-case hex digits and a newline.
    public var fileContents: [UInt8] {
        Array(key.withUnsafeBytes { Hex.encode($0) }.utf8) + [0x0A]
    }

    /// Writes the key file with mode 0600; fails with ``ExtractError/Code/alreadyExists`` rather than overwrite a key.
    public func write(to path: String) throws(ExtractError) {
        let file = try OutputFile(path: path, exclusive: true, mode: 0o600)
        try file.setMode(0o600)
        file.buffer.append(contentsOf: fileContents)
        try file.sync()
    }

    /// `PseudonymisationKey(redacted)`.
    public var description: String { "PseudonymisationKey(redacted)" }

    /// `PseudonymisationKey(redacted)`.
    public var debugDescription: String { description }
}

/// Turns NHS numbers into pseudonymous person ids: HMAC-SHA256 under a ``PseudonymisationKey`` of the
/// ten ASCII digits, so the same person gets the same 32-byte id in every file and every ingest with that key.
///
/// ```swift
/// let pseudonymiser = Pseudonymiser(key: key)
/// let id = pseudonymiser.personID(for: try NHSNumber(validating: "9434765919"))   // 32 bytes
/// pseudonymiser.keyCheckValue   // store this, compare on the next ingest to detect a different key
/// ```
public struct Pseudonymiser: Sendable {
    /// SHA-256 states after absorbing the key XOR the HMAC inner and outer pads (RFC 2104), so each id costs two blocks.
    private let innerPadded: SHA256
    private let outerPadded: SHA256

    /// Lower-case hex of HMAC-SHA256(key, `sde-broker key check v1`): identifies the key without revealing it.
    public let keyCheckValue: String

    /// A pseudonymiser for `key`.
    public init(key: PseudonymisationKey) {
        // The key is 32 bytes, shorter than SHA-256's 64-byte block, so it is zero-padded rather than hashed.
        var block = [UInt8](repeating: 0, count: SHA256.blockByteCount)
        key.key.withUnsafeBytes { block.replaceSubrange(0..<$0.count, with: $0) }
        var inner = SHA256()
        inner.update(data: block.map { $0 ^ 0x36 })
        var outer = SHA256()
        outer.update(data: block.map { $0 ^ 0x5C })
        innerPadded = inner
        outerPadded = outer
        keyCheckValue = Hex.encode(HMAC<SHA256>.authenticationCode(for: Array("sde-broker key check v1".utf8), using: key.key))
    }

    /// The 32-byte person id of `nhsNumber`.
    public func personID(for nhsNumber: NHSNumber) -> [UInt8] {
        Array(nhsNumber.digits.utf8).withUnsafeBytes { personID(asciiDigits: $0) }
    }

    /// HMAC-SHA256 of ten normalised ASCII digits: the 32-byte person id.
    @inline(__always)
    func personID(asciiDigits: UnsafeRawBufferPointer) -> [UInt8] {
        var inner = innerPadded
        inner.update(bufferPointer: asciiDigits)
        var outer = outerPadded
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize().withUnsafeBytes { Array($0) }
    }
}
