import Foundation
import SDEDevCluster

/// A program outside the Swift toolchain (python3, schemathesis) run by a test through ``ChildProcess``: by
/// `/usr/bin/env` (so `PATH` finds it, with `environment` added) in the temporary directory (so that nothing it caches
/// lands in the checkout), its output collected in a file, and waited for on a thread of its own. Not
/// `Foundation.Process`: its `waitUntilExit` blocked threads of the test pool and, on two cores, hung the whole run.
enum ExternalProgram {
    /// Whether `CI=true`: there a missing tool fails its test instead of disabling it.
    static let inCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Runs `arguments` with `environment` added to this process's; returns the exit status and what it printed.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("sde-external-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let variables = environment.map { "\($0)=\($1)" }
        let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result {
                        try ChildProcess.run("/usr/bin/env", ["-C", FileManager.default.temporaryDirectory.path] + variables + arguments, logPath: log)
                    })
            }
        }
        return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// Whether a program named `name` is on `PATH`.
    static func onPath(_ name: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
        }
    }
}
