import Foundation
import SDEAudit
import Testing

/// Throughput of sealing, JSONL encoding and verification over a million events, on one thread. Runs only on demand:
/// `SDE_BENCH=1 swift test -c release --filter AuditBenchmark` (`SDE_BENCH_EVENTS=n` changes the count).
/// Prints events per second by wall clock and per second of this thread's CPU time, which is what one core
/// achieves when other work shares the machine.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SDE_BENCH"] == "1"))
struct AuditBenchmark {
    @Test func verifyThroughput() throws {
        let count = Int(ProcessInfo.processInfo.environment["SDE_BENCH_EVENTS"] ?? "") ?? 1_000_000
        let key = AuditSigningKey()
        let drafts = try (0..<1000).map(ChainFixture.draft)

        func measure(_ label: String, _ body: () throws -> Void) rethrows {
            func cpuSeconds() -> Double {
                var t = timespec()
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
                return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
            }
            let cpuStart = cpuSeconds()
            let wall = try ContinuousClock().measure(body)
            let cpu = cpuSeconds() - cpuStart
            let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
            print("audit bench: \(label): \(Int(Double(count) / wallSeconds)) events/s wall, \(Int(Double(count) / cpu)) per CPU second")
        }

        var chain = AuditChain()
        var events: [AuditEvent] = []
        events.reserveCapacity(count)
        try measure("seal (encode + hash, every 1000th a signed checkpoint)") {
            for i in 0..<count {
                let time = ChainFixture.time(i)
                events.append(i % 1000 == 999 ? try chain.appendCheckpoint(at: time, signedBy: key) : chain.append(drafts[i % 1000], at: time))
            }
        }
        var file: [UInt8] = []
        file.reserveCapacity(count * 700)
        measure("JSONL encode") { for event in events { AuditJSONL.append(event, to: &file) } }

        var lineVerifier = AuditVerifier(trustedKeys: [key.publicKey])
        measure("verify JSONL (parse, canonical check, hash, chain, signatures)") { lineVerifier.consume(jsonl: file) }
        #expect(lineVerifier.report.isIntact)
        #expect(lineVerifier.report.events == count)

        var rowVerifier = AuditVerifier(trustedKeys: [key.publicKey])
        measure("verify rows (encode, hash, chain, signatures)") { for event in events where !rowVerifier.consume(event) { break } }
        #expect(rowVerifier.report.isIntact)
        print("audit bench: \(count) events, \(file.count / count) bytes per line; \(lineVerifier.report)")
    }
}
