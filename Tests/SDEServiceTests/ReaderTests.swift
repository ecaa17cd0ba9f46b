import SDEAudit
import SDEPolicy
import SDEService
import SDEServiceFakes
import Testing

/// What IG officers, regulators and every caller read: each read is audited (with the SHA-256 of the bytes sent when
/// it sends any), and each is refused, audited, to anyone else.
@Suite struct ReaderTests {
    @Test func onlyIGOfficersSearchTheAuditTrailAndTheSearchIsAudited() async throws {
        let fake = try FakeBroker()
        _ = try? await fake.broker.tokens.authenticate(bearer: nil)
        for user in ["res", "reg", "op"] {
            let error = try await #require(throws: ServiceError.self) {
                try await fake.broker.audit.search(fake.caller(user), filter: AuditFilter(), limit: 10, format: .json)
            }
            #expect(error.code == .denied(.wrongRole) && error.event?.action == .auditRead && error.event?.outcome == .denied)
        }
        let filter = AuditFilter(actor: "anonymous", action: .authFailed)
        let (event, output) = try await fake.broker.audit.search(fake.caller("ig"), filter: filter, limit: 10, format: .csv)
        #expect(event.action == .auditRead && event.outcome == .allowed && event.role == "ig_officer")
        #expect(event.outputDigest == AuditDigest.sha256(of: output))
        #expect(output == Array(AuditExporter.render(fake.trail.events.filter(filter.matches), format: .csv).utf8))
        #expect(String(decoding: output, as: UTF8.self).split(whereSeparator: \.isNewline).count == 2, "a header and the one auth.failed event")
    }

    @Test func aSearchThatFailsIsRecordedAsAFailure() async throws {
        let fake = try FakeBroker()
        struct Broken: AuditArchive {
            func search(_ filter: AuditFilter, limit: Int) async throws -> [AuditEvent] { throw PortFailure.databaseUnavailable }
        }
        let reader = AuditReader(gate: fake.broker.gate, archive: Broken())
        let error = try await #require(throws: ServiceError.self) {
            try await reader.search(fake.caller("ig"), filter: AuditFilter(), limit: 10, format: .json)
        }
        #expect(error.code == .databaseUnavailable && error.event?.outcome == .error && error.event?.reason == "database_unavailable")
    }

    @Test func regulatorsListAndReadOnlyReleasesInTheirAudience() async throws {
        let fake = try FakeBroker()
        // Before publication: listed without a version; a read is not found, and audited.
        let before = try await fake.broker.releases.list(fake.caller("reg"))
        #expect(before.releases.map(\.release.id) == ["r1"] && before.releases.first?.latest == nil)
        #expect(before.event.action == .releaseList && before.event.outcome == .allowed)
        let unpublished = try await #require(throws: ServiceError.self) {
            try await fake.broker.releases.read(fake.caller("reg"), release: "r1", version: nil, format: .json)
        }
        #expect(unpublished.code == .releaseNotPublished && unpublished.code.kind == .notFound)
        #expect(unpublished.event?.outcome == .error && unpublished.event?.reason == "release_not_published")

        let published = try await fake.broker.publisher.publish(fake.caller("op"), release: "r1")
        let listing = try await fake.broker.releases.list(fake.caller("reg"))
        #expect(listing.releases.first?.latest?.version == 1 && listing.releases.first?.latest?.sha256 == published.stored.sha256)
        let read = try await fake.broker.releases.read(fake.caller("reg"), release: "r1", version: nil, format: .json)
        #expect(read.bytes == published.stored.json, "the stored bytes, unchanged")
        #expect(read.event.action == .releaseRead && read.event.actor == "reg" && read.event.role == "regulator")
        #expect(read.event.outputDigest == AuditDigest.sha256(of: read.bytes) && read.event.parameters == ["version": "1"])
        let csv = try await fake.broker.releases.read(fake.caller("reg"), release: "r1", version: 1, format: .csv)
        #expect(csv.bytes == published.stored.csv && csv.event.outputDigest == AuditDigest.sha256(of: csv.bytes))
        let missing = try await #require(throws: ServiceError.self) {
            try await fake.broker.releases.read(fake.caller("reg"), release: "r1", version: 2, format: .json)
        }
        #expect(missing.code == .releaseNotPublished)

        // Another regulator's organisation is not in the audience: nothing listed, nothing read.
        let other = try await fake.broker.releases.list(fake.caller("reg2"))
        #expect(other.releases.isEmpty)
        let refused = try await #require(throws: ServiceError.self) {
            try await fake.broker.releases.read(fake.caller("reg2"), release: "r1", version: nil, format: .json)
        }
        #expect(refused.code == .denied(.notInAudience) && refused.event?.action == .releaseRead && refused.event?.outcome == .denied)
        #expect(refused.event?.outputDigest == nil)
    }

    @Test(arguments: ["res", "ig", "op"])
    func onlyRegulatorsListOrReadReleases(user: String) async throws {
        let fake = try FakeBroker()
        let listing = try await #require(throws: ServiceError.self) { try await fake.broker.releases.list(fake.caller(user)) }
        #expect(listing.code == .denied(.wrongRole) && listing.event?.action == .releaseList && listing.event?.outcome == .denied)
        let read = try await #require(throws: ServiceError.self) {
            try await fake.broker.releases.read(fake.caller(user), release: "r1", version: nil, format: .json)
        }
        #expect(read.code == .denied(.wrongRole) && read.event?.action == .releaseRead)
        #expect(fake.trail.events.count == 2)
    }

    @Test func callersSeeThemselvesAndOnlyTheirOwnProjects() async throws {
        let fake = try FakeBroker()
        let identity = try await fake.broker.identity.identity(fake.caller("res"))
        #expect(identity.user.id == "res" && identity.projects.map(\.project.id) == ["p1"])
        #expect(identity.projects.first?.decision.grant != nil && identity.releases.isEmpty)
        #expect(identity.event.action == .identityRead && identity.event.outcome == .allowed)
        let regulator = try await fake.broker.identity.identity(fake.caller("reg"))
        #expect(regulator.releases == ["r1"] && regulator.projects.isEmpty)

        let project = try await fake.broker.identity.project(fake.caller("res"), id: "p1")
        #expect(project.project.id == "p1" && project.event.action == .projectRead && project.event.project == "p1")
        let outsider = try await #require(throws: ServiceError.self) { try await fake.broker.identity.project(fake.caller("res2"), id: "p1") }
        #expect(outsider.code == .denied(.notAMember) && outsider.event?.action == .projectRead && outsider.event?.outcome == .denied)
        let unknown = try await #require(throws: ServiceError.self) { try await fake.broker.identity.identity(fake.caller("nobody")) }
        #expect(unknown.code == .denied(.unknownUser) && unknown.event?.actor == "nobody")
    }
}
