import Foundation

/// Finds PostgreSQL's server programs: `$PG_BIN`, then `PATH`, then Debian's `/usr/lib/postgresql/<version>/bin`.
struct PostgresPrograms: Sendable {
    let initdb: String
    let pgCtl: String

    static func locate() throws(DevClusterError) -> PostgresPrograms {
        let fm = FileManager.default
        var candidates: [String] = []
        if let bin = ProcessInfo.processInfo.environment["PG_BIN"] { candidates.append(bin) }
        candidates += (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let debian = "/usr/lib/postgresql"
        let versions = ((try? fm.contentsOfDirectory(atPath: debian)) ?? []).compactMap(Int.init).sorted(by: >)
        candidates += versions.map { "\(debian)/\($0)/bin" }
        for dir in candidates where fm.isExecutableFile(atPath: "\(dir)/initdb") && fm.isExecutableFile(atPath: "\(dir)/pg_ctl") {
            return PostgresPrograms(initdb: "\(dir)/initdb", pgCtl: "\(dir)/pg_ctl")
        }
        throw .postgresNotInstalled("PostgreSQL server programs (initdb, pg_ctl) not found: install Debian's postgresql package or set PG_BIN")
    }
}
