public import Foundation
import HTTPTypes
import Hummingbird
import SDEAudit
import SDECommon
import SDEPolicy
import SDEService

extension BrokerAPI {
    /// `GET /v1/releases` (the releases published to the caller's organisation, with their latest version) and
    /// `GET /v1/releases/{release}[?version=N]` (a stored release's exact bytes, JSON or CSV, with the signed audit
    /// checkpoint it was written under in `SDE-Audit-Checkpoint`). Regulators read stored releases only; nothing here
    /// computes anything. Every read is audited with the SHA-256 of the bytes sent.
    var releaseRoutes: [Route] {
        [
            Route(.get, "/v1/releases", audit: AuditSubject(.releaseList)) { request, context in
                try request.checkQueryParameters(allowed: [])
                let listing = try await broker.releases.list(try context.requireCaller())
                let items: [JSONValue] = listing.releases.map { release, latest in
                    var item: [String: JSONValue] = [
                        "id": .string(release.id), "title": .string(release.title), "description": .string(release.description),
                        "query": .string(release.query), "profile": .string(release.profile),
                        "parameters": .object(release.parameters.values.mapValues { .string($0) }),
                    ]
                    item["latest"] =
                        latest.map {
                            .object([
                                "version": .int(Int64($0.version)), "published": .string(Self.timestamp($0.published)), "sha256": .string($0.sha256),
                            ])
                        } ?? .null
                    return .object(item)
                }
                return Response.json(.object(["releases": .array(items)]), audit: listing.event)
            },
            Route(.get, "/v1/releases/{release}", audit: AuditSubject(.releaseRead)) { request, context in
                try request.checkQueryParameters(allowed: ["format", "version"])
                let format = try ResponseFormat(request)
                let caller = try context.requireCaller()
                var version: Int?
                if let text = request.uri.queryParameters["version"] {
                    guard let number = Int(String(text)), (1...APIRequestLimits.maxReleaseVersion).contains(number) else {
                        throw APIError(
                            .unprocessableContent, "parameter_invalid", "version must be a whole number from 1 to \(APIRequestLimits.maxReleaseVersion).")
                    }
                    version = number
                }
                let read = try await broker.releases.read(
                    caller, release: try context.parameters.require("release"), version: version, format: format == .csv ? .csv : .json)
                var response = Response.bytes(read.bytes, contentType: format.contentType, audit: read.event)
                response.headers[.sdeReleaseVersion] = String(read.stored.version)
                response.headers[.sdeReleaseSHA256] = read.stored.sha256
                if let checkpoint = read.stored.auditCheckpoint {
                    response.headers[.sdeAuditCheckpoint] = Data(checkpoint.utf8).base64EncodedString()
                }
                return response
            },
        ]
    }

    /// An instant as the audit trail writes it (RFC 3339, milliseconds, UTC).
    public static func timestamp(_ date: Date) -> String {
        AuditTimestamp(millisecondsSinceEpoch: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))?.description ?? ""
    }
}

extension HTTPField.Name {
    /// The version of the release sent.
    static let sdeReleaseVersion = HTTPField.Name("SDE-Release-Version")!
    /// The SHA-256 of the release's stored JSON bytes (the same for its CSV form, which is derived from the same table).
    static let sdeReleaseSHA256 = HTTPField.Name("SDE-Release-SHA256")!
    /// Base64 of the signed audit checkpoint the release was written under (it covers the release's own audit event).
    static let sdeAuditCheckpoint = HTTPField.Name("SDE-Audit-Checkpoint")!
}
