public import SDEService
import Crypto
import Foundation
import PostgresNIO
public import SDECommon

/// API tokens in `broker.api_token`: issue, authenticate, revoke, list.
///
/// A token is `sde_<id>_<secret>`: a random 8-byte public id and a 32-byte secret from the system's random number
/// generator, both lower-case hex. Only the SHA-256 of the secret's bytes is stored; authentication looks the id up
/// and compares digests in constant time, then checks expiry and revocation. The table refuses every change other
/// than revoking a token once (migration `0007_api_tokens.sql`).
///
/// ```swift
/// let issued = try await TokenStore.issue(user: "r-priya-shah", expires: today.adding(days: 90), on: db)
/// print(issued.token)   // shown once
/// switch try await TokenStore.authenticate(bearer, today: today, on: db) {
/// case .valid(let user, let tokenID): ...
/// case .rejected(let reason): ...   // 401, audited with reason.rawValue
/// }
/// ```
public enum TokenStore {
    /// The token's fixed prefix.
    static let prefix = "sde_"
    /// Bytes of the public id and of the secret.
    static let idBytes = 8, secretBytes = 32
    /// The length of a well-formed token: `sde_` + 16 hex + `_` + 64 hex.
    static let tokenLength = 4 + 2 * idBytes + 1 + 2 * secretBytes

    /// Issues a token for `user`, valid up to and including `expires`; the caller checks the user and the date.
    public static func issue(user: String, expires: CivilDate, on db: DatabaseSession) async throws(StoreError) -> IssuedToken {
        guard Identifier.isName(user) else {
            throw .invalidArgument("a token's user id must be a policy id (1 to 64 letters, digits, '.', '_' or '-')")
        }
        var generator = SystemRandomNumberGenerator()
        // A clash of two random 64-bit ids is all but impossible; should one happen, draw again.
        for _ in 0..<3 {
            let id = Hex.encode(randomBytes(idBytes, using: &generator))
            let secret = randomBytes(secretBytes, using: &generator)
            let rows = try await db.query(
                """
                INSERT INTO broker.api_token (token_id, user_id, secret_sha256, expires_on)
                VALUES (\(id), \(user), \(Hex.encode(SHA256.hash(data: secret))), \(expires.description)::date)
                ON CONFLICT (token_id) DO NOTHING
                RETURNING created_at
                """,
                "store a new API token")
            var created: Date?
            do {
                for try await value in rows.decode(Date.self) { created = value }
            } catch {
                throw db.failure(error, "store a new API token")
            }
            if let created {
                return IssuedToken(id: id, token: prefix + id + "_" + Hex.encode(secret), user: user, created: created, expires: expires)
            }
        }
        throw .databaseUnavailable("store a new API token failed: no free token id after three draws")
    }

    /// Checks a presented bearer token on `today`: well-formed, known, matching secret, not expired, not revoked.
    public static func authenticate(_ presented: String, today: CivilDate, on db: DatabaseSession) async throws(StoreError) -> TokenCheck {
        guard let (id, secret) = parse(presented) else { return .rejected(.malformed) }
        let rows = try await db.query(TokenLookup(key: id), "look up an API token")
        var stored: (user: String, hash: String, expires: String, revoked: Bool)?
        do {
            for try await row in rows { stored = row }
        } catch {
            throw db.failure(error, "look up an API token")
        }
        let presentedDigest = Array(SHA256.hash(data: secret))
        guard let stored, let storedDigest = Hex.decode(stored.hash) else {
            // Compare anyway, so an unknown id costs the same time as a wrong secret.
            _ = constantTimeEqual(presentedDigest, unknownDigest)
            return .rejected(.unknown)
        }
        guard constantTimeEqual(presentedDigest, storedDigest) else { return .rejected(.unknown) }
        guard let expires = CivilDate(parsing: stored.expires) else {
            throw .databaseUnavailable("look up an API token failed: the stored expiry is not a date")
        }
        if today > expires { return .rejected(.expired) }
        if stored.revoked { return .rejected(.revoked) }
        return .valid(user: stored.user, tokenID: id)
    }

    /// Revokes the token `id` now; false when there is no such token or it was revoked already.
    public static func revoke(id: String, on db: DatabaseSession) async throws(StoreError) -> Bool {
        let rows = try await db.query(
            "UPDATE broker.api_token SET revoked_at = now() WHERE token_id = \(id) AND revoked_at IS NULL RETURNING token_id",
            "revoke an API token")
        var revoked = false
        do {
            for try await _ in rows { revoked = true }
        } catch {
            throw db.failure(error, "revoke an API token")
        }
        return revoked
    }

    /// Every stored token, oldest first, without secrets or hashes.
    public static func list(on db: DatabaseSession) async throws(StoreError) -> [TokenRecord] {
        let rows = try await db.query(
            "SELECT token_id, user_id, created_at, expires_on::text, revoked_at FROM broker.api_token ORDER BY created_at, token_id",
            "list API tokens")
        var records: [TokenRecord] = []
        do {
            for try await (id, user, created, expires, revoked) in rows.decode((String, String, Date, String, Date?).self) {
                guard let expiry = CivilDate(parsing: expires) else {
                    throw StoreError.databaseUnavailable("list API tokens failed: a stored expiry is not a date")
                }
                records.append(TokenRecord(id: id, user: user, created: created, expires: expiry, revoked: revoked))
            }
        } catch {
            throw db.failure(error, "list API tokens")
        }
        return records
    }

    /// The id and the secret's bytes of a well-formed token, or `nil`. Only lower-case hex is accepted, so each
    /// token has exactly one spelling.
    static func parse(_ presented: String) -> (id: String, secret: [UInt8])? {
        let bytes = Array(presented.utf8)
        guard bytes.count == tokenLength, bytes.starts(with: prefix.utf8), bytes[4 + 2 * idBytes] == UInt8(ascii: "_") else { return nil }
        let idHex = bytes[4..<(4 + 2 * idBytes)], secretHex = bytes[(5 + 2 * idBytes)...]
        guard idHex.allSatisfy(isLowerHex), secretHex.allSatisfy(isLowerHex),
            let secret = Hex.decode(String(decoding: secretHex, as: UTF8.self))
        else { return nil }
        return (String(decoding: idHex, as: UTF8.self), secret)
    }

    /// True when `a` and `b` hold the same bytes; takes the same time wherever they differ (not when lengths differ,
    /// which for SHA-256 digests they never do).
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    /// A digest no secret is known to hash to, compared against when the id is unknown.
    private static let unknownDigest = [UInt8](repeating: 0, count: SHA256.byteCount)

    private static func isLowerHex(_ c: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(c)
    }

    private static func randomBytes(_ count: Int, using generator: inout SystemRandomNumberGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}

/// The token lookup of every authenticated request, prepared once per connection.
struct TokenLookup: TextKeyStatement {
    static let sql = "SELECT user_id, secret_sha256, expires_on::text, revoked_at IS NOT NULL FROM broker.api_token WHERE token_id = $1"
    typealias Row = (String, String, String, Bool)

    /// The token id.
    let key: String

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
