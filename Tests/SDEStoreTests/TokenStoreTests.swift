import Foundation
import PostgresNIO
import SDECommon
import SDEService
@testable import SDEStore
import Testing

@Suite struct TokenStoreTests {
    static let today = CivilDate(year: 2026, month: 11, day: 26)!

    @Test func anIssuedTokenAuthenticatesAsItsUser() async throws {
        try await TestPostgres.withDatabase { _, db in
            let issued = try await TokenStore.issue(user: "r-priya-shah", expires: Self.today.adding(days: 90), on: db)
            #expect(issued.token.hasPrefix("sde_\(issued.id)_") && issued.token.count == 85)
            #expect(issued.user == "r-priya-shah" && issued.expires == Self.today.adding(days: 90))
            let check = try await TokenStore.authenticate(issued.token, today: Self.today, on: db)
            #expect(check == .valid(user: "r-priya-shah", tokenID: issued.id))
            // Two tokens never share an id or a secret.
            let other = try await TokenStore.issue(user: "r-priya-shah", expires: Self.today, on: db)
            #expect(other.id != issued.id && other.token.suffix(64) != issued.token.suffix(64))
        }
    }

    @Test func aWrongSecretUnderARealIdIsUnknown() async throws {
        try await TestPostgres.withDatabase { _, db in
            let issued = try await TokenStore.issue(user: "r-priya-shah", expires: Self.today, on: db)
            let wrongSecret = "sde_\(issued.id)_" + String(repeating: "0", count: 64)
            #expect(try await TokenStore.authenticate(wrongSecret, today: Self.today, on: db) == .rejected(.unknown))
            // One flipped digit at the end of the secret is as wrong as any other secret.
            var flipped = Array(issued.token)
            flipped[flipped.count - 1] = flipped.last == "a" ? "b" : "a"
            #expect(try await TokenStore.authenticate(String(flipped), today: Self.today, on: db) == .rejected(.unknown))
            let unknownID = "sde_0123456789abcdef_" + issued.token.suffix(64)
            #expect(try await TokenStore.authenticate(unknownID, today: Self.today, on: db) == .rejected(.unknown))
        }
    }

    static let valid = "sde_0123456789abcdef_" + String(repeating: "ab", count: 32)

    @Test(arguments: [
        "", "garbage", "Bearer " + valid, String(valid.dropLast()), valid + "0", valid + " ", " " + valid,
        "sdf_" + valid.dropFirst(4), "sde-" + valid.dropFirst(4), valid.replacingOccurrences(of: "def_", with: "de_f"),
        valid.uppercased(), "SDE_" + valid.dropFirst(4), valid.replacingOccurrences(of: "abab", with: "abzb"),
        valid.replacingOccurrences(of: "0123", with: "012g"), valid.replacingOccurrences(of: "abab", with: "ab\u{0}b"),
        valid.replacingOccurrences(of: "abab", with: "abéb"), String(repeating: "a", count: 100_000),
        "sde_0123456789abcdef_", "sde__" + String(repeating: "ab", count: 40), "sde_'; DROP TABLE broker.api_token; --",
    ])
    func malformedTokensAreRejectedBeforeAnyLookup(_ presented: String) async throws {
        try await TestPostgres.withDatabase { _, db in
            let check = try await TokenStore.authenticate(presented, today: Self.today, on: db)
            #expect(check == .rejected(.malformed))
        }
    }

    @Test func aTokenWorksOnItsExpiryDayAndNotAfter() async throws {
        try await TestPostgres.withDatabase { _, db in
            let expires = Self.today.adding(days: 30)
            let issued = try await TokenStore.issue(user: "r-priya-shah", expires: expires, on: db)
            #expect(try await TokenStore.authenticate(issued.token, today: expires, on: db) == .valid(user: "r-priya-shah", tokenID: issued.id))
            #expect(try await TokenStore.authenticate(issued.token, today: expires.adding(days: 1), on: db) == .rejected(.expired))
        }
    }

    @Test func aRevokedTokenIsRejectedAndRevokesOnce() async throws {
        try await TestPostgres.withDatabase { _, db in
            let issued = try await TokenStore.issue(user: "r-priya-shah", expires: Self.today.adding(days: 30), on: db)
            let kept = try await TokenStore.issue(user: "r-priya-shah", expires: Self.today.adding(days: 30), on: db)
            #expect(try await TokenStore.revoke(id: issued.id, on: db))
            #expect(try await TokenStore.authenticate(issued.token, today: Self.today, on: db) == .rejected(.revoked))
            #expect(try await TokenStore.authenticate(kept.token, today: Self.today, on: db) == .valid(user: "r-priya-shah", tokenID: kept.id))
            #expect(try await TokenStore.revoke(id: issued.id, on: db) == false, "already revoked")
            #expect(try await TokenStore.revoke(id: "0123456789abcdef", on: db) == false, "unknown")
            #expect(try await TokenStore.revoke(id: "not an id'; --", on: db) == false, "malformed")
            let listed = try await TokenStore.list(on: db)
            #expect(listed.map(\.id).sorted() == [issued.id, kept.id].sorted())
            #expect(listed.first { $0.id == issued.id }?.revoked != nil)
            #expect(listed.first { $0.id == kept.id }?.revoked == nil)
        }
    }

    @Test func theTableHoldsNoSecret() async throws {
        try await TestPostgres.withDatabase { _, db in
            let issued = try await TokenStore.issue(user: "r-priya-shah", expires: Self.today, on: db)
            let secret = String(issued.token.suffix(64))
            // Every column of every row, as text: neither the token nor its secret appears in any of them.
            let rows = try await db.query("SELECT t::text FROM broker.api_token t")
            var texts: [String] = []
            for try await text in rows.decode(String.self) { texts.append(text) }
            #expect(texts.count == 1)
            #expect(!texts[0].contains(issued.token) && !texts[0].contains(secret) && texts[0].contains(issued.id))
            #expect(texts[0].contains(Hex.sha256(Hex.decode(secret)!)))
        }
    }

    @Test func onlyRevocationMayChangeAToken() async throws {
        try await TestPostgres.withDatabase { _, db in
            let issued = try await TokenStore.issue(user: "r-priya-shah", expires: Self.today, on: db)
            let hash = String(repeating: "0", count: 64)
            let refused = [
                "UPDATE broker.api_token SET user_id = 'r-someone-else'", "UPDATE broker.api_token SET secret_sha256 = '\(hash)'",
                "UPDATE broker.api_token SET expires_on = expires_on + 365", "DELETE FROM broker.api_token", "TRUNCATE broker.api_token",
            ]
            for change in refused {
                // The owner is stopped by the trigger ...
                let byOwner = await #expect(throws: StoreError.self) { try await db.execute(unsafeSQL: change) }
                #expect(byOwner?.message.contains("P0001") == true, "\(change) as owner")
                // ... and the broker's role has no privilege to try.
                let byBroker = await #expect(throws: StoreError.self) {
                    try await db.transaction("as broker") {
                        try await db.execute("SET LOCAL ROLE sde_broker")
                        try await db.execute(unsafeSQL: change)
                    }
                }
                #expect(byBroker?.message.contains("42501") == true, "\(change) as sde_broker")
            }
            // The broker's role may revoke, once; un-revoking is refused.
            try await db.transaction("as broker") {
                try await db.execute("SET LOCAL ROLE sde_broker")
                #expect(try await TokenStore.revoke(id: issued.id, on: db))
            }
            let unrevoke = await #expect(throws: StoreError.self) { try await db.execute(unsafeSQL: "UPDATE broker.api_token SET revoked_at = NULL") }
            #expect(unrevoke?.message.contains("P0001") == true)
            #expect(try await TokenStore.authenticate(issued.token, today: Self.today, on: db) == .rejected(.revoked))
        }
    }

    @Test func anInvalidUserIdIsRefusedBeforeStoring() async throws {
        try await TestPostgres.withDatabase { _, db in
            for user in ["", "has space", String(repeating: "u", count: 129)] {
                await #expect(throws: StoreError.self) { try await TokenStore.issue(user: user, expires: Self.today, on: db) }
            }
            let stored = try await TokenStore.list(on: db)
            #expect(stored.isEmpty)
        }
    }

    @Test func constantTimeComparisonComparesEveryByte() {
        let a = [UInt8](repeating: 7, count: 32)
        #expect(TokenStore.constantTimeEqual(a, a))
        for i in a.indices {
            var b = a
            b[i] ^= 0x80
            #expect(!TokenStore.constantTimeEqual(a, b))
        }
        #expect(!TokenStore.constantTimeEqual(a, Array(a.dropLast())))
    }
}
