import Crypto

/// The secret behind every record key (see ``RecordKeys``): 32 random bytes kept exactly like the
/// ``PseudonymisationKey``, outside the database and out of every log, in a file of the same form
/// (`sde-broker data keygen` makes either).
///
/// ```swift
/// let key = try PerturbationKey.read(from: ".sde/perturbation.key")
/// let recordKeys = RecordKeys(key: key)
/// ```
public struct PerturbationKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let key: SymmetricKey

    private init(key: SymmetricKey) { self.key = key }

    /// A fresh key from the system's cryptographically secure random number generator.
    public static func generate() -> PerturbationKey { PerturbationKey(key: SymmetricKey(size: .bits256)) }

    /// Parses the contents of a key file: exactly 64 lower-case hex digits, then optional trailing whitespace.
    public init(fileContents: some Collection<UInt8>) throws(ExtractError) {
        key = try KeyFile.parse(fileContents)
    }

    /// Reads a key file (see ``init(fileContents:)``).
    public static func read(from path: String) throws(ExtractError) -> PerturbationKey {
        PerturbationKey(key: try KeyFile.read(from: path))
    }

    /// Writes the key file with mode 0600; fails with ``ExtractError/Code/alreadyExists`` rather than overwrite a key.
    public func write(to path: String) throws(ExtractError) { try KeyFile.write(key, to: path) }

    /// `PerturbationKey(redacted)`.
    public var description: String { "PerturbationKey(redacted)" }

    /// `PerturbationKey(redacted)`.
    public var debugDescription: String { description }
}
