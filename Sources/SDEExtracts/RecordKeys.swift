import Crypto
import SDECommon

/// Derives every person's secret **record key** for the cell-key method (DESIGN section 7): the first 8 bytes of
/// HMAC-SHA256(perturbation key, the 32-byte pseudonym), read as a big-endian `UInt64` and shifted right by one bit.
///
/// The result is a non-negative `Int64` (it fits PostgreSQL's `bigint`), unique per person with overwhelming
/// probability (63 bits), and its low 32 bits are uniform, so a cell key (the sum of a population's record keys
/// modulo 2^32) is uniform too. It depends only on the pseudonym and the key: the same person gets the same record key
/// in every ingest, and nobody without the key can compute it from the pseudonym.
///
/// ```swift
/// let recordKeys = RecordKeys(key: try PerturbationKey.read(from: ".sde/perturbation.key"))
/// let recordKey = recordKeys.recordKey(personID: pseudonym)   // store with the person; never log it
/// recordKeys.keyCheckValue   // store this, compare on the next ingest to detect a different key
/// ```
public struct RecordKeys: Sendable {
    private let hmac: PaddedHMAC

    /// Lower-case hex of HMAC-SHA256(key, `sde-broker perturbation key check v1`): identifies the key without revealing it.
    public let keyCheckValue: String

    /// Lower-case hex of HMAC-SHA256(key, `sde-broker key check v1`): what ``Pseudonymiser/keyCheckValue`` would be
    /// were this key used to pseudonymise, so ingest can refuse one key file given for both purposes.
    public let pseudonymisationCheckValue: String

    /// The derivation under `key`.
    public init(key: PerturbationKey) {
        hmac = PaddedHMAC(key: key.key)
        keyCheckValue = Hex.encode(HMAC<SHA256>.authenticationCode(for: Array("sde-broker perturbation key check v1".utf8), using: key.key))
        pseudonymisationCheckValue = Hex.encode(HMAC<SHA256>.authenticationCode(for: Array("sde-broker key check v1".utf8), using: key.key))
    }

    /// The record key of the person whose pseudonym is `personID`: in `0...Int64.max`.
    public func recordKey(personID: [UInt8]) -> Int64 {
        let code = personID.withUnsafeBytes { hmac.authenticationCode($0) }
        let high = code.withUnsafeBytes { bytes in bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        return Int64(high >> 1)
    }
}
