import Foundation
import HTTPTypes
import Hummingbird
import SDEAudit
import SDECommon
import SDEPolicy
import SDEStore

extension BrokerAPI {
    /// `GET /v1/releases` (the releases published to the caller's organisation, with their latest version) and
    /// `GET /v1/releases/{release}[?version=N]` (a stored release's exact bytes, JSON or CSV). Regulators read stored
    /// releases only; nothing here computes anything. Every read is audited with the SHA-256 of the bytes sent.
    var releaseRoutes: [Route] {
        [
            Route(.get, "/v1/releases") { request, context in
                try request.checkQueryParameters(allowed: [])
                let caller = try context.requireCaller()
                let policy = try await policy()
                let now = today()
                var readable: [Release] = []
                var refusal: AccessDenial?
                for id in policy.releases.keys.sorted() {
                    switch policy.decide(user: caller.user, action: .readRelease(release: id), now: now) {
                    case .allow(let grant): grant.release.map { readable.append($0) }
                    case .deny(let denial): refusal = refusal ?? denial
                    }
                }
                if readable.isEmpty, let refusal, refusal.reason != .notInAudience {
                    let event = try await audit(caller, role: nil, action: .releaseList, policy: policy, outcome: .denied, reason: refusal.reason.rawValue)
                    throw APIError(refusal, auditSequence: event.sequence)
                }
                let stored = try await connections.withDatabase { db in try await ReleaseStore.list(on: db) }
                let latest = Dictionary(uniqueKeysWithValues: stored.map { ($0.id, $0) })
                let items: [JSONValue] = readable.map { release in
                    var item: [String: JSONValue] = [
                        "id": .string(release.id), "title": .string(release.title), "description": .string(release.description),
                        "query": .string(release.query), "profile": .string(release.profile),
                        "parameters": .object(release.parameters.values.mapValues { .string($0) }),
                    ]
                    if let version = latest[release.id] {
                        item["latest"] = .object([
                            "version": .int(Int64(version.version)), "published": .string(Self.timestamp(version.published)),
                            "sha256": .string(version.sha256),
                        ])
                    } else {
                        item["latest"] = .null
                    }
                    return .object(item)
                }
                let event = try await audit(caller, role: "regulator", action: .releaseList, policy: policy, outcome: .allowed)
                return Response.json(.object(["releases": .array(items)]), audit: event)
            },
            Route(.get, "/v1/releases/{release}") { request, context in
                try request.checkQueryParameters(allowed: ["format", "version"])
                let format = try ResponseFormat(request)
                let caller = try context.requireCaller()
                let releaseID = try context.parameters.require("release")
                var version: Int?
                if let text = request.uri.queryParameters["version"] {
                    guard let number = Int(String(text)), number >= 1 else {
                        throw APIError(.unprocessableContent, "parameter_invalid", "version must be a whole number from 1.")
                    }
                    version = number
                }
                let (grant, policy) = try await authorize(caller, .readRelease(release: releaseID), auditAs: .releaseRead, target: releaseID)
                guard let release = grant.release else { throw APIError.policyInvalid }
                let stored = try await connections.withDatabase { db in
                    if let version { try await ReleaseStore.version(version, of: release.id, on: db) } else { try await ReleaseStore.latest(id: release.id, on: db) }
                }
                guard let stored else {
                    let event = try await audit(
                        caller, role: "regulator", action: .releaseRead, target: release.id, policy: policy, outcome: .error, reason: "release_not_published")
                    throw APIError(
                        .notFound, "release_not_published", version == nil ? "Release '\(release.id)' has not been published yet." : "There is no such version of release '\(release.id)'.",
                        auditSequence: event.sequence)
                }
                let bytes = format == .csv ? stored.csv : stored.json
                let (event, output) = try await releaseAudited(bytes) { digest in
                    try AuditEventDraft(
                        actor: caller.user, role: "regulator", action: .releaseRead, target: release.id, parameters: ["version": String(stored.version)],
                        policyDigest: AuditDigest(hex: policy.digest), outcome: .allowed, outputDigest: digest)
                }
                var response = Response.bytes(output, contentType: format.contentType, audit: event)
                response.headers[.sdeReleaseVersion] = String(stored.version)
                response.headers[.sdeReleaseSHA256] = stored.sha256
                return response
            }
        ]
    }

    /// An instant as the audit trail writes it (RFC 3339, milliseconds, UTC).
    static func timestamp(_ date: Date) -> String {
        AuditTimestamp(millisecondsSinceEpoch: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))?.description ?? ""
    }

    /// ``AuditTrail/release(_:_:)`` with its failure as the API's `audit_unavailable`.
    func releaseAudited(_ bytes: [UInt8], _ draft: @Sendable (AuditDigest) throws -> AuditEventDraft) async throws -> (AuditEvent, [UInt8]) {
        do {
            return try await trail.release(bytes, draft)
        } catch let error as StoreError {
            throw APIError(error)
        }
    }
}

extension HTTPField.Name {
    /// The version of the release sent.
    static let sdeReleaseVersion = HTTPField.Name("SDE-Release-Version")!
    /// The SHA-256 of the release's stored JSON bytes (the same for its CSV form, which is derived from the same table).
    static let sdeReleaseSHA256 = HTTPField.Name("SDE-Release-SHA256")!
}
