import Foundation
@testable import SDEStore
import Testing

/// The mirror's lock is fair between writers: one that takes it again and again as fast as it can (`serve` writing
/// group after group) does not starve another that waits for it (a command beside `serve`), which polls.
@Suite struct AuditMirrorLockTests {
    /// An actor standing for one broker process's trail.
    actor Writer {
        let mirror: AuditMirror
        init(_ directory: String) { mirror = AuditMirror(directory: directory) }

        /// Takes and holds the lock `times` times in a row, each for `hold`.
        func hammer(times: Int, hold: Duration) async throws {
            for _ in 0..<times { try await mirror.withLock(timeout: .seconds(30)) { try await Task.sleep(for: hold) } }
        }

        /// How long taking the lock once took.
        func timeToLock() async throws -> Duration {
            let start = ContinuousClock.now
            try await mirror.withLock(timeout: .seconds(30)) {}
            return ContinuousClock.now - start
        }
    }

    @Test func aWaitingWriterGetsTheLockBetweenAnotherWritersTurns() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sde-lock-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let busy = Writer(directory), waiting = Writer(directory)
        // 400 turns of 5 ms: two seconds and more of a lock that is free only between one turn and the next.
        let hammering = Task { try await busy.hammer(times: 400, hold: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(50))
        let waited = try await waiting.timeToLock()
        try await hammering.value
        #expect(waited < .seconds(1), "waited \(waited) while the other writer took the lock turn after turn")
    }
}
