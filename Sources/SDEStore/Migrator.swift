import Foundation
import NIOCore
import PostgresNIO
import SDECommon
import SDEExtracts

/// Brings a database to the schema in `Sql/`: migrations once each, in order; curated views and reference data
/// whenever their files change.
///
/// - `Sql/migrations/*.sql` apply in file-name order, once each. An applied migration that was edited afterwards
///   is an error: write a new migration instead.
/// - `Sql/views/*.sql` are repeatable: re-applied when their content changes.
/// - `Sql/local_authorities.csv` is loaded into `linked.local_authority` when it changes.
///
/// Everything runs in one transaction under an advisory lock, so a failure leaves the database as it was and two
/// broker processes never migrate at once. Each file is recorded in `broker.schema_migration` with its SHA-256.
public struct Migrator: Sendable {
    /// The directory holding `migrations/`, `views/` and `local_authorities.csv`.
    public let sqlDirectory: String

    /// What a migration run did.
    public struct Report: Sendable, Equatable {
        /// Files applied in this run, in order.
        public var applied: [String] = []
        /// Files already up to date.
        public var unchanged: Int = 0
    }

    private struct ScriptFile {
        let name: String
        let kind: String
        let text: String
        let checksum: String
    }

    /// A migrator for the files under `sqlDirectory`.
    public init(sqlDirectory: String) {
        self.sqlDirectory = sqlDirectory
    }

    /// Applies what is missing or changed, all in one transaction.
    @discardableResult
    public func migrate(_ db: DatabaseSession) async throws -> Report {
        let files = try scriptFiles()
        return try await db.transaction("migration") {
            try await db.execute("SELECT pg_advisory_xact_lock(7263591001)", "take the migration lock")
            try await db.execute(
                """
                CREATE TABLE IF NOT EXISTS public.sde_schema_migration (
                    name text PRIMARY KEY, kind text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """,
                "create the migrations table"
            )
            let recorded = try await recordedChecksums(db)
            var report = Report()
            for file in files {
                switch (recorded[file.name], file.kind) {
                case (file.checksum?, _):
                    report.unchanged += 1
                    continue
                case (.some, "migration"):
                    throw StoreError.migrationChanged(
                        "\(file.name) was applied before and has been edited since: add a new migration instead of changing an applied one"
                    )
                default:
                    try await apply(file, db)
                    try await db.execute(
                        """
                        INSERT INTO public.sde_schema_migration (name, kind, checksum) VALUES (\(file.name), \(file.kind), \(file.checksum))
                        ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()
                        """,
                        "record \(file.name)"
                    )
                    report.applied.append(file.name)
                }
            }
            return report
        }
    }

    /// Names of files that `migrate` would apply: empty when the database is up to date.
    public func pending(_ db: DatabaseSession) async throws -> [String] {
        let files = try scriptFiles()
        let rows = try await db.query("SELECT to_regclass('public.sde_schema_migration') IS NOT NULL", "check the migrations table")
        var hasTable = false
        for try await exists in rows.decode(Bool.self) { hasTable = exists }
        guard hasTable else { return files.map(\.name) }
        let recorded = try await recordedChecksums(db)
        return files.filter { recorded[$0.name] != $0.checksum }.map(\.name)
    }

    /// Refuses (``StoreError/Code/migrationsPending``) while `migrate` has anything to apply.
    public func requireUpToDate(_ db: DatabaseSession) async throws {
        let pending = try await pending(db)
        guard pending.isEmpty else {
            throw StoreError.migrationsPending(
                "\(pending.count) migration(s) pending (\(pending.joined(separator: ", "))): run `sde-broker db migrate` first")
        }
    }

    private func recordedChecksums(_ db: DatabaseSession) async throws -> [String: String] {
        var recorded: [String: String] = [:]
        let rows = try await db.query("SELECT name, checksum FROM public.sde_schema_migration", "read applied migrations")
        for try await (name, checksum) in rows.decode((String, String).self) { recorded[name] = checksum }
        return recorded
    }

    private func apply(_ file: ScriptFile, _ db: DatabaseSession) async throws {
        if file.kind == "reference" {
            try await loadLocalAuthorities(sqlDirectory + "/" + file.name, db)
            return
        }
        for statement in SQLScript.statements(file.text) {
            try await db.execute(unsafeSQL: statement, "apply \(file.name)")
        }
    }

    /// Upserts the local authority reference list (parsed with the extract reader's CSV parser).
    private func loadLocalAuthorities(_ path: String, _ db: DatabaseSession) async throws {
        let authorities = try LocalAuthority.load(from: path)
        try await db.execute(
            """
            INSERT INTO linked.local_authority (la_code, la_name, region_code, region_name)
            SELECT * FROM unnest(\(authorities.map(\.code))::text[], \(authorities.map(\.name))::text[],
                                 \(authorities.map(\.regionCode))::text[], \(authorities.map(\.regionName))::text[])
            ON CONFLICT (la_code) DO UPDATE
            SET la_name = EXCLUDED.la_name, region_code = EXCLUDED.region_code, region_name = EXCLUDED.region_name
            """,
            "load local authorities"
        )
    }

    private func scriptFiles() throws(StoreError) -> [ScriptFile] {
        func read(_ path: String, _ kind: String) throws(StoreError) -> ScriptFile {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw .io("cannot read \(path)")
            }
            let name = String(path.dropFirst(sqlDirectory.count).drop(while: { $0 == "/" }))
            return ScriptFile(name: name, kind: kind, text: text, checksum: Hex.sha256(Array(data)))
        }
        func sqlFiles(_ sub: String) throws(StoreError) -> [String] {
            let dir = sqlDirectory + "/" + sub
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
                throw .io("cannot read \(dir): run from the repository root or pass --sql-dir")
            }
            return names.filter { $0.hasSuffix(".sql") }.sorted().map { dir + "/" + $0 }
        }
        var files: [ScriptFile] = []
        for path in try sqlFiles("migrations") { files.append(try read(path, "migration")) }
        files.append(try read(sqlDirectory + "/local_authorities.csv", "reference"))
        for path in try sqlFiles("views") { files.append(try read(path, "view")) }
        return files
    }
}
