import Foundation
import SDEDisclosure

#if canImport(Glibc)
    import Glibc
#endif

/// The Debian packages the broker needs at run time and a fresh machine may lack: PostgreSQL's server programs, for the
/// embedded cluster, and GLPK, the attacker audit's solver (loaded at run time, so the build needs neither).
///
/// ```swift
/// let missing = RuntimePackages.missing(embeddedCluster: true)
/// if !missing.isEmpty { try RuntimePackages.install(missing, logPath: ".sde/apt-get.log") }
/// ```
public enum RuntimePackages {
    /// The packages missing: `postgresql` when the embedded cluster is used and `initdb` or `pg_ctl` is not found, and
    /// `libglpk40` when GLPK cannot be loaded.
    public static func missing(embeddedCluster: Bool) -> [String] {
        var missing: [String] = []
        if embeddedCluster, (try? PostgresPrograms.locate()) == nil { missing.append("postgresql") }
        if (try? AttackerAuditSolver.check()) == nil { missing.append(AttackerAuditSolver.package) }
        return missing
    }

    /// The one command that installs `packages`.
    public static func installCommand(_ packages: [String]) -> String {
        "apt-get install -y " + packages.joined(separator: " ")
    }

    /// Installs `packages` with apt-get when the broker runs as root, writing apt-get's output to `logPath`; otherwise
    /// throws ``DevClusterError/Code/packagesMissing`` with the one command to run.
    public static func install(_ packages: [String], logPath: String) throws(DevClusterError) {
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/apt-get") else {
            throw .packagesMissing("\(packages.joined(separator: " and ")) not installed: run `sudo \(installCommand(packages))`, then try again")
        }
        for arguments in [["update", "-qq"], ["install", "-y", "-qq"] + packages] {
            let code = try ChildProcess.run("/usr/bin/env", ["DEBIAN_FRONTEND=noninteractive", "/usr/bin/apt-get"] + arguments, logPath: logPath)
            guard code == 0 else {
                throw .packagesMissing("apt-get \(arguments[0]) failed (exit \(code)); see \(logPath), or run `\(installCommand(packages))` yourself")
            }
        }
    }
}
