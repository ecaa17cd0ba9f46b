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
        key = try KeyFile.parse(fileContents)
    }

    /// Reads a key file (see ``init(fileContents:)``).
    public static func read(from path: String) throws(ExtractError) -> PseudonymisationKey {
        PseudonymisationKey(key: try KeyFile.read(from: path))
    }

    /// The key file's contents: 64 lower-case hex digits and a newline.
    public var fileContents: [UInt8] { KeyFile.contents(of: key) }

    /// Writes the key file with mode 0600; fails with ``ExtractError/Code/alreadyExists`` rather than overwrite a key.
    public func write(to path: String) throws(ExtractError) { try KeyFile.write(key, to: path) }

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
    private let hmac: PaddedHMAC

    /// Lower-case hex of HMAC-SHA256(key, `sde-broker key check v1`): identifies the key without revealing it.
    public let keyCheckValue: String

    /// A pseudonymiser for `key`.
    public init(key: PseudonymisationKey) {
        hmac = PaddedHMAC(key: key.key)
        keyCheckValue = Hex.encode(HMAC<SHA256>.authenticationCode(for: Array("sde-broker key check v1".utf8), using: key.key))
    }

    /// The 32-byte person id of `nhsNumber`.
    public func personID(for nhsNumber: NHSNumber) -> [UInt8] {
        Array(nhsNumber.digits.utf8).withUnsafeBytes { personID(asciiDigits: $0) }
    }

    /// HMAC-SHA256 of ten normalised ASCII digits: the 32-byte person id.
    @inline(__always)
    func personID(asciiDigits: UnsafeRawBufferPointer) -> [UInt8] {
        hmac.authenticationCode(asciiDigits).withUnsafeBytes { Array($0) }
    }
}
