import Foundation
import SDECommon

#if canImport(Glibc)
    import Glibc
#endif

/// The `postgres` user, as whom the cluster's programs run when the broker runs as root (PostgreSQL refuses to run as
/// root), and the directory of its own it is given when it cannot enter the state directory.
///
/// Why a directory of its own rather than opening the way in: a checkout under `/root` (mode 0700) would need `o+x`
/// or an ACL on `/root` itself, a change to the administrator's home outside the project; the server's files instead go
/// to `~postgres/sde-broker/<id>` (mode 0700, owned by postgres), which PostgreSQL's own packages already keep private.
enum ServerUser {
    /// Runs `program` as `postgres` through `runuser`, appending its output to `logPath`.
    static func run(_ program: String, _ arguments: [String], logPath: String) throws(DevClusterError) -> Int32 {
        guard let runuser = ["/usr/sbin/runuser", "/sbin/runuser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw .processFailed("running as root needs runuser to start PostgreSQL as the postgres user")
        }
        return try ChildProcess.run(runuser, ["-u", "postgres", "--", program] + arguments, logPath: logPath)
    }

    /// Where the server's files of the cluster under `stateDirectory` go: `stateDirectory` itself unless the broker runs
    /// as root and `postgres` cannot enter it (or its nearest existing ancestor); a cluster already initialised in either
    /// place stays there.
    static func directory(for stateDirectory: String) -> String {
        guard geteuid() == 0, let user = getpwnam("postgres") else { return stateDirectory }
        let own = String(cString: user.pointee.pw_dir) + "/sde-broker/" + Hex.sha256(Array(stateDirectory.utf8)).prefix(16)
        let fm = FileManager.default
        if fm.fileExists(atPath: stateDirectory + "/pgdata/PG_VERSION") { return stateDirectory }
        if fm.fileExists(atPath: own + "/pgdata/PG_VERSION") { return own }
        var existing = URL(fileURLWithPath: stateDirectory)
        while !fm.fileExists(atPath: existing.path) && existing.path != "/" { existing.deleteLastPathComponent() }
        let entered = (try? run("test", ["-x", existing.path], logPath: "/dev/null")) == 0
        return entered ? stateDirectory : own
    }

    /// The directories to give to `postgres` before `initdb`: the state directory when the server's files are in it,
    /// otherwise its own directory and the `sde-broker` directory above it, made owner-only.
    static func ownedDirectories(_ serverDirectory: String, stateDirectory: String) -> [String] {
        guard serverDirectory != stateDirectory else { return [stateDirectory] }
        let parent = URL(fileURLWithPath: serverDirectory).deletingLastPathComponent().path
        for path in [parent, serverDirectory] { _ = chmod(path, 0o700) }
        return [parent, serverDirectory]
    }
}
