import Foundation
import SDEDisclosure
import SDEService
import SDEStore
import Testing

/// The cell-key method's promise: one population shows one value, whichever vetted query, user or regulator release
/// asks for it, so repeating or re-slicing a question averages no noise away.
@Suite struct ConsistencyTests {
    typealias Ledger = DifferencingLedgerTests

    /// The North East's and England's persons with a request over 2024Q2-2025Q1, through `requests-by-la-quarter` (two
    /// researchers of P2025-002), `waits-by-region-support-reason` (another vetted query over the same view) and the
    /// regulator release `cqc-requests-by-la-2024-25` (another profile with the same noise): one value each, perturbed.
    @Test func onePopulationShowsOneValueEverywhere() async throws {
        try await Ledger().withService { runner, publisher, db, _ in
            for day in ["2024-05-20", "2024-08-20", "2024-11-20", "2025-02-20"] { try await Ledger.background(db, day: day, count: 30) }
            let window = ["from": "2024Q2", "to": "2025Q1"]
            func persons(_ document: ProtectedTableDocument, _ dimensions: [String?]) throws -> CellValue? {
                let row = try #require(document.table.rows.first { $0.dimensions == dimensions })
                #expect(row.cells[0].status == .perturbed)
                return row.cells[0].value
            }
            var values: [[CellValue?]] = []
            for (user, query) in [("r-amara-bello", "requests-by-la-quarter"), ("r-priya-shah", "requests-by-la-quarter"),
                                  ("r-amara-bello", "waits-by-region-support-reason")] {
                let document = try await runner.run(caller(user), project: "P2025-002", query: query, parameters: window).document
                values.append([try persons(document, [Ledger.northEast, nil, nil]), try persons(document, [nil, nil, nil])])
            }
            let stored = try await publisher.publish(caller("op-dan-wright"), release: "cqc-requests-by-la-2024-25").stored
            // The stored release's JSON: the same cells, as a regulator reads them.
            let document = try #require(try JSONSerialization.jsonObject(with: Data(stored.json)) as? [String: Any])
            let rows = try #require(document["rows"] as? [[String: Any]])
            func published(_ region: String?) throws -> CellValue? {
                let row = try #require(rows.first { row in
                    let dimensions = row["dimensions"] as? [String: Any] ?? [:]
                    return dimensions["region_code"] as? String == region && dimensions["la_code"] is NSNull && dimensions["quarter"] is NSNull
                })
                let cell = try #require((row["cells"] as? [String: [String: Any]])?["persons"])
                #expect(cell["status"] as? String == "perturbed")
                return (cell["value"] as? Int).map(CellValue.integer)
            }
            values.append([try published(Ledger.northEast), try published(nil)])
            #expect(Set(values).count == 1, "\(values)")
            // The North East has 12 councils x 30 persons x 4 quarters = 1,440 persons; the value is within D of it.
            guard case .integer(let northEast)? = values[0][0] else { throw TestFailure("no value") }
            #expect(abs(northEast - 1_440) <= 4)
        }
    }
}
