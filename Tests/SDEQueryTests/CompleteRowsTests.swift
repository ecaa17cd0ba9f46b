import SDEDisclosure
import SDEPolicy
import Testing

@testable import SDEQuery

/// Complete tables: every catalogue row of a vetted query's table, whatever the data.
@Suite struct CompleteRowsTests {
    static let policy = QueryCompilerTests.policy
    static let councils = policy.reference.regionOfLocalAuthority

    /// Region, local authority and quarter over four quarters: every council under its own region (never another),
    /// region totals, England, each by quarter and in total.
    @Test func everyCouncilUnderItsOwnRegionForEveryQuarter() throws {
        let compiled = try QueryCompiler.compile(QueryCompilerTests.authorised("requests-by-la-quarter", parameters: ["from": "2024Q1", "to": "2024Q4"]))
        let rows = try #require(compiled.completeRows).rows
        let regions = Set(Self.councils.values)
        #expect(Self.councils.count == 153 && regions.count == 9)
        // (153 councils + 9 regions + England) x (4 quarters + their total).
        #expect(rows.count == (153 + 9 + 1) * 5)
        #expect(Set(rows).count == rows.count)
        for row in rows where row[1] != nil { #expect(Self.councils[row[1]!] == row[0], "\(row)") }
        #expect(rows.last == [nil, nil, nil])
        #expect(rows.filter { $0[2] == "2024Q3" }.count == 153 + 9 + 1)
    }

    /// A parameter filter to one council keeps that council and its region only.
    @Test func aFilterNarrowsTheCatalogueAndItsHierarchy() throws {
        let compiled = try QueryCompiler.compile(
            QueryCompilerTests.authorised("services-by-type-quarter", parameters: ["from": "2024Q1", "to": "2024Q2", "la_code": "E06000001"]))
        let rows = try #require(compiled.completeRows).rows
        // Seven service types (the fixed filter keeps service events; the dimension is service_type) plus the total,
        // by two quarters plus the total.
        #expect(rows.count == 8 * 3)
        let waits = try QueryCompiler.compile(QueryCompilerTests.authorised("waits-by-region-support-reason", parameters: ["from": "2024Q1", "to": "2024Q2"]))
        // Regions (9 + England) x support reasons (6 + total) x age bands (4 + total).
        #expect(try #require(waits.completeRows).rows.count == 10 * 7 * 5)
    }

    /// Rows the statement did not return are added as zeros of each measure's kind, in the statement's order; rows it
    /// returned are kept as they are.
    @Test func missingRowsAreZerosInStatementOrder() throws {
        let compiled = try QueryCompiler.compile(
            QueryCompilerTests.authorised("services-by-type-quarter", parameters: ["from": "2024Q1", "to": "2024Q1", "la_code": "E06000001"]))
        let returned = StatisticsRow(dimensions: ["home_care", "2024Q1"], cells: [.persons(12), .events(count: 14, persons: 12)])
        let table = compiled.table([returned])
        #expect(table.rows.count == 8 * 2)
        #expect(table.rows.first { $0.dimensions == ["home_care", "2024Q1"] } == returned)
        let zeros = table.rows.filter { $0 != returned }
        #expect(zeros.allSatisfy { $0.cells == [.persons(0), .events(count: 0, persons: 0)] })
        #expect(table.rows.map(\.dimensions) == table.rows.map(\.dimensions).sorted(by: CompleteRows.statementOrder))
        #expect(table.rows.last?.dimensions == [nil, nil])
        // A query compiled outside a run (`query show`) has no catalogue rows and adds nothing.
        let query = try #require(Self.policy.queries["services-by-type-quarter"])
        let dataset = try #require(Self.policy.datasets[query.dataset])
        let shown = try QueryCompiler.compile(query, dataset: dataset, period: dataset.coverage, parameterFilters: [], rules: DisclosureRules())
        #expect(shown.table([returned]).rows == [returned])
    }
}
