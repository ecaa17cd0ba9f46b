import Foundation
import SDEExtracts
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Throughput of synthesis and of read + validate + pseudonymise, printed in rows per second.
/// Runs only with `SDE_BENCH=1` (persons from `SDE_BENCH_PERSONS`, default 1,000,000); build with `-c release` for real figures.
/// Besides wall-clock rates it prints rates per CPU-second of the test's thread, which stay meaningful on a busy machine.
@Suite struct ThroughputBenchmark {
    static let enabled = ProcessInfo.processInfo.environment["SDE_BENCH"] == "1"

    @Test(.enabled(if: enabled)) func synthesiseAndRead() throws {
        let persons = Int(ProcessInfo.processInfo.environment["SDE_BENCH_PERSONS"] ?? "") ?? 1_000_000
        let directory = try Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(directory) }
        var summary: SyntheticExtracts.Summary?
        let synthTime = try Self.measure {
            summary = try SyntheticExtracts.write(
                persons: persons, seed: 1, to: directory, badRowRate: 0.001, localAuthorities: Fixture.localAuthorities)
        }
        let rows = try #require(summary).rowsWritten
        print(
            "synth: \(persons) persons, \(rows) rows in \(synthTime.wall) s: \(Int(Double(rows) / synthTime.wall)) rows/s, \(Int(Double(rows) / synthTime.cpu)) rows/cpu-s"
        )

        var read = 0
        var quarantined = 0
        let readTime = try Self.measure {
            for path in try ExtractReader.extractFiles(in: directory) {
                let reader = try ExtractReader(path: path, laCodes: Fixture.laCodes, pseudonymiser: Fixture.pseudonymiser)
                while let batch = try reader.next(batchOf: 10_000) { quarantined += batch.quarantined.count }
                read += reader.rowsRead
            }
        }
        #expect(read == rows)
        #expect(quarantined == summary?.rowsBroken)
        print(
            "read+validate+HMAC: \(read) rows in \(readTime.wall) s: \(Int(Double(read) / readTime.wall)) rows/s, \(Int(Double(read) / readTime.cpu)) rows/cpu-s"
        )
    }

    /// Wall-clock and thread CPU seconds of `body` (synchronous, so it stays on one thread).
    static func measure(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
        func cpuNow() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
        }
        let wallStart = ContinuousClock.now, cpuStart = cpuNow()
        try body()
        let wall = ContinuousClock.now - wallStart
        return (Double(wall.components.seconds) + Double(wall.components.attoseconds) * 1e-18, cpuNow() - cpuStart)
    }
}
