import Foundation
import PostgresNIO
import SDEDevCluster
import SDEStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The embedded cluster wherever the project is checked out: as root, in a folder the `postgres` user cannot enter
/// (a checkout under /root, mode 0700), the server's files go to a directory of its own that it owns.
@Suite struct ClusterPlacementTests {
    @Test(.enabled(if: geteuid() == 0 && getpwnam("postgres") != nil, "needs root and a postgres user"))
    func aClusterInAFolderOnlyRootCanEnterStartsWithItsDataWherePostgresCanReachThem() async throws {
        let closed = FileManager.default.temporaryDirectory.appendingPathComponent("sde-test-closed-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: closed, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: closed) }
        let cluster = EmbeddedPostgres(directory: closed + "/checkout/.sde")
        defer { try? cluster.destroy() }

        #expect(cluster.serverDirectory != cluster.directory)
        #expect(cluster.serverDirectory.hasPrefix(String(cString: getpwnam("postgres")!.pointee.pw_dir) + "/sde-broker/"))
        #expect(cluster.serverDirectoryNote?.contains(cluster.serverDirectory) == true)
        let config = try await cluster.start(logger: TestPostgres.logger)
        let answer = try await DatabaseSession.with(config, logger: TestPostgres.logger) { db in
            var value = 0
            for try await one in try await db.query("SELECT 1", "select one").decode(Int.self) { value = one }
            return value
        }
        #expect(answer == 1)
        let attributes = try FileManager.default.attributesOfItem(atPath: cluster.serverDirectory)
        #expect((attributes[.ownerAccountID] as? NSNumber)?.uint32Value == getpwnam("postgres")!.pointee.pw_uid)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)
        // The same directory is found again, by another instance (a later command), and the cluster is running there.
        let again = EmbeddedPostgres(directory: closed + "/checkout/.sde")
        #expect(again.serverDirectory == cluster.serverDirectory)
        if case .running = try again.status() {} else { Issue.record("the cluster is not found running by a later command") }
        try cluster.destroy()
        #expect(!FileManager.default.fileExists(atPath: cluster.serverDirectory))
    }

    @Test func aClusterInAReachableFolderKeepsItsDataThere() {
        let cluster = EmbeddedPostgres(directory: FileManager.default.temporaryDirectory.appendingPathComponent("sde-test-open-\(UUID().uuidString)").path)
        #expect(cluster.serverDirectory == cluster.directory)
        #expect(cluster.serverDirectoryNote == nil)
    }
}
