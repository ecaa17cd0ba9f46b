import Foundation
import SDEService
import SDEStore
import Testing

/// Issue 11: an adversarial statistician holding every released document. The documents are made here exactly as a
/// researcher gets them (`QueryRunner.run`, the canonical JSON bytes), in the order of `Tests/Attacks/make-documents.sh`,
/// and attacked by `Tests/Attacks/attack.py`, which knows only the published contract and the catalogue.
@Suite struct AttackerTests {
    static let attacks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Attacks")

    /// (file, mechanisms, user, project, query, parameters), in order of release.
    static let runs: [(String, String, String, String, String, [String: String])] = {
        let a = ["from": "2023Q2", "to": "2023Q4"], b = ["from": "2023Q3", "to": "2024Q1"]
        let u = ["from": "2023Q2", "to": "2024Q1"], i = ["from": "2023Q3", "to": "2023Q4"]
        let windows = [("A", a), ("B", b), ("U", u), ("I", i)]
        var runs: [(String, String, String, String, String, [String: String])] = []
        for (name, w) in windows { runs.append(("m1-requests-\(name).json", "1, 5, 6", "r-priya-shah", "P2025-002", "requests-by-la-quarter", w)) }
        for (name, w) in windows { runs.append(("m2-reablement-\(name).json", "1, 2, 6", "r-priya-shah", "P2025-001", "discharge-reablement-by-la", w)) }
        for (name, w) in windows {
            runs.append(("m2-assessed-rate-\(name).json", "1, 2, 4", "r-priya-shah", "P2025-002", "waits-by-region-support-reason", w))
        }
        runs.append(("m3-waits-A.json", "2, 3, 4, 5", "r-priya-shah", "P2025-002", "waits-by-la-quarter", a))
        runs.append(("m3-waits-U.json", "2, 3, 4, 5", "r-priya-shah", "P2025-002", "waits-by-la-quarter", u))
        runs.append(("m3-home-care-U.json", "2, 3", "r-amara-bello", "P2025-003", "home-care-cost-by-support-reason", u))
        var small = u
        small["la_code"] = "E06000017"
        runs.append(("m6-services-E06000017.json", "5, 6", "r-amara-bello", "P2025-003", "services-by-type-quarter", small))
        small["la_code"] = "E08000025"
        runs.append(("m6-services-E08000025.json", "5, 6", "r-amara-bello", "P2025-003", "services-by-type-quarter", small))
        return runs
    }()

    @Test(.timeLimit(.minutes(10)))
    func noCombinationOfReleasedTablesDeterminesFewerThanKPersons() async throws {
        let scratch = try IngestTests.Scratch(persons: 20_000, seed: 2026)
        defer { scratch.remove() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sde-attack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        try await withBroker(ingesting: scratch) { broker, _, _ in
            var entries: [String] = []
            for (file, mechanisms, user, project, query, parameters) in Self.runs {
                let json: [UInt8]
                do {
                    json = try await broker.queries.run(caller(user), project: project, query: query, parameters: parameters).json
                } catch {
                    Issue.record("\(query) \(parameters) was not released: \(error)")
                    continue
                }
                try Data(json).write(to: directory.appendingPathComponent(file))
                entries.append(#"{"file": "\#(file)", "mechanisms": [\#(mechanisms)], "query": "\#(query)", "project": "\#(project)"}"#)
            }
            #expect(entries.count == Self.runs.count)
            let manifest = "{\"documents\": [\n  " + entries.joined(separator: ",\n  ") + "\n]}\n"
            try Data(manifest.utf8).write(to: directory.appendingPathComponent("manifest.json"))
        }

        let (status, output) = try await ExternalProgram.run(["python3", Self.attacks.appendingPathComponent("attack.py").path, directory.path])
        // The attacker must at least have read the documents (exit 2 is bad input, not a verdict).
        #expect(status == 0 || status == 1, "attack.py could not run:\n\(output)")
        // The engine before the cell-key method (rounding, rule labels, missing rows, a ledger keyed by vetted query)
        // failed this: the attacker found exact groups of 1 to k-1 persons through mechanisms 1, 3 and 5, and narrow
        // intervals through 4 and 5.
        #expect(status == 0, "the attacker determined fewer than k persons:\n\(output)")
    }
}
