import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A program outside the Swift toolchain (python3, schemathesis) run by a test: spawned through `/usr/bin/env` (so
/// `PATH` finds it) in the temporary directory (`env -C`) (so that nothing it caches lands in the checkout), its output collected
/// in a file, and waited for on a thread of its own. Not `Foundation.Process`: its `waitUntilExit` blocks a thread of
/// the test pool, and with every test running in parallel on two cores the whole pool hung in it.
enum ExternalProgram {
    /// Whether `CI=true`: there a missing tool fails its test instead of disabling it.
    static let inCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Runs `arguments` with `environment` added to this process's; returns the exit status and what it printed.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("sde-external-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0)=\($1)" }
        let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
            Thread.detachNewThread { continuation.resume(with: Result { try spawnAndWait(["/usr/bin/env", "-C", FileManager.default.temporaryDirectory.path] + arguments, variables, log: log) }) }
        }
        return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// Whether a program named `name` is on `PATH`.
    static func onPath(_ name: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
        }
    }

    /// `posix_spawn` and a blocking `waitpid`: for a thread of its own.
    private static func spawnAndWait(_ argv: [String], _ environment: [String], log: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup($0) } + [nil]
        defer { (cArguments + cEnvironment).forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, cEnvironment)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
