import Foundation
import SDECommon
import SDEDisclosure
import SDEExtracts
import SDEPolicy
import SDEPolicyFiles
import Testing

@testable import SDEQuery

/// The example vetted queries in `Policies/`, compiled as `query run` and `query show` compile them.
@Suite struct QueryCompilerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let today = CivilDate(year: 2026, month: 11, day: 26)!
    static let policy: PolicySet = {
        let authorities = try! LocalAuthority.load(from: root + "/Sql/local_authorities.csv")
        let codes = ReferenceCodes(regionOfLocalAuthority: Dictionary(uniqueKeysWithValues: authorities.map { ($0.code, $0.regionCode) }))
        return try! PolicyDirectory.load(at: root + "/Policies", reference: codes)
    }()

    /// A researcher and project allowed to run each example query today (the unsigned one has none).
    static let runs: [String: (user: String, project: String)] = [
        "discharge-reablement-by-la": ("r-priya-shah", "P2025-001"),
        "discharge-destinations-by-age": ("r-priya-shah", "P2025-001"),
        "requests-by-la-quarter": ("r-amara-bello", "P2025-002"),
        "waits-by-la-quarter": ("r-amara-bello", "P2025-002"),
        "waits-by-region-support-reason": ("r-amara-bello", "P2025-002"),
        "home-care-cost-by-support-reason": ("r-amara-bello", "P2025-003"),
        "services-by-type-quarter": ("r-amara-bello", "P2025-003"),
    ]

    static let allQueries = policy.queries.keys.sorted()

    /// The authorised run of `id` from an allowed decision, with its two quarter parameters.
    static func authorised(_ id: String, parameters: [String: String] = ["from": "2023Q2", "to": "2024Q4"]) throws -> AuthorizedQuery {
        let who = try #require(runs[id])
        let decision = policy.decide(user: who.user, action: .runQuery(project: who.project, query: id, parameters: parameters), now: today)
        return try #require(decision.grant?.run, "\(decision.denial?.description ?? "")")
    }

    /// `id` compiled from an allowed decision, or (for the unsigned query) directly over the dataset's coverage.
    static func compiled(_ id: String) throws -> CompiledQuery {
        if runs[id] != nil { return try QueryCompiler.compile(try authorised(id)) }
        let query = try #require(policy.queries[id])
        let dataset = try #require(policy.datasets[query.dataset])
        return try QueryCompiler.compile(query, dataset: dataset, period: dataset.coverage, parameterFilters: [], rules: DisclosureRules())
    }

    /// The `$n` placeholders in `sql`.
    static func placeholders(_ sql: String) -> Set<Int> {
        var result: Set<Int> = []
        var rest = sql[...]
        while let dollar = rest.firstIndex(of: "$") {
            let digits = rest[rest.index(after: dollar)...].prefix { $0.isNumber }
            if let n = Int(digits) { result.insert(n) }
            rest = rest[rest.index(after: dollar)...]
        }
        return result
    }

    @Test func everyExampleQueryIsCovered() {
        #expect(Self.allQueries.count == 8)
        #expect(Set(Self.allQueries).subtracting(Self.runs.keys) == ["assessments-by-ethnicity"])
    }

    @Test(arguments: allQueries) func compilesToOneParameterisedStatementOverTheView(id: String) throws {
        let query = try #require(Self.policy.queries[id])
        let dataset = try #require(Self.policy.datasets[query.dataset])
        let compiled = try Self.compiled(id)
        let sql = compiled.sql
        let view = dataset.view.split(separator: ".").map { "\"\($0)\"" }.joined(separator: ".")
        #expect(sql.contains("FROM \(view)\n"))
        #expect(sql.components(separatedBy: "FROM \(view)").count == 2, "the view is read once")
        #expect(!sql.contains(";"))
        // Every bind has its placeholder and every placeholder its bind.
        #expect(Self.placeholders(sql) == Set(1...compiled.binds.count))
        #expect(sql.contains("\"\(dataset.periodColumn)\" BETWEEN $1::date AND $2::date"))
        guard case .date(let first) = compiled.binds[0], case .date(let last) = compiled.binds[1] else {
            Issue.record("the period is not bound as two dates")
            return
        }
        #expect(first.day == 1 && last.adding(days: 1).day == 1 && first < last)
        // Values never appear in the text: no quotes other than identifiers', no dates, no codes.
        #expect(!sql.contains("'"), "no string literal")
        #expect(!sql.contains("20"), "no date or year literal")
        let outsideIdentifiers = sql.replacing(#/"[^"]*"/#, with: "")
        for case .textArray(let values) in compiled.binds {
            for value in values { #expect(!outsideIdentifiers.contains(value), "\(value)") }
        }
        // Counting is by distinct person; min and max never appear.
        #expect(sql.contains("count(DISTINCT \"\(dataset.personKey)\")"))
        #expect(sql.range(of: #"\b(min|max)\s*\("#, options: [.regularExpression, .caseInsensitive]) == nil)
        // Deterministic.
        #expect(try Self.compiled(id) == compiled)
    }

    @Test(arguments: allQueries) func groupingSetsCoverEveryMarginAndHierarchyLevel(id: String) throws {
        let query = try #require(Self.policy.queries[id])
        let dataset = try #require(Self.policy.datasets[query.dataset])
        let compiled = try Self.compiled(id)
        let dims = query.dimensions
        let childOf = Dictionary(
            uniqueKeysWithValues: dims.compactMap { d in dataset.dimension(named: d)?.parent.flatMap { dims.contains($0) ? ($0, d) : nil } })
        // Expected: every subset of the dimensions in which a child level only appears with its parent.
        var expected: Set<[String]> = []
        for mask in 0..<(1 << dims.count) {
            let set = dims.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element)
            if childOf.allSatisfy({ parent, child in !set.contains(child) || set.contains(parent) }) { expected.insert(set) }
        }
        #expect(Set(compiled.groupingSets) == expected)
        #expect(compiled.groupingSets.count == expected.count)
        #expect(compiled.groupingSets.first == dims && compiled.groupingSets.last == [])
        #expect(compiled.sql.contains("GROUPING SETS ("))
        for set in compiled.groupingSets {
            #expect(compiled.sql.contains("(" + set.map { "\"\($0)\"" }.joined(separator: ", ") + ")"), "set \(set)")
        }
        #expect(compiled.sql.contains("GROUPING(" + dims.map { "\"\($0)\"" }.joined(separator: ", ") + ") AS \"grouping\""))
        // Totals sort last in every dimension, in query order, independently of the database locale.
        let prefix = compiled.sql.hasPrefix("WITH") ? "c." : ""
        #expect(compiled.sql.hasSuffix("ORDER BY " + dims.map { "\(prefix)\"\($0)\" COLLATE \"C\" NULLS LAST" }.joined(separator: ", ")))
        // Rows with a real NULL in a dimension are excluded, so a NULL in the result is always a total.
        for d in dims { #expect(compiled.sql.contains("\"\(d)\" IS NOT NULL")) }
    }

    @Test func hierarchyParentsAreKeptOnlyWhenTheQueryGroupsByTheParent() throws {
        let requests = try Self.compiled("requests-by-la-quarter")
        #expect(
            requests.dimensions == [
                TableDimension(name: "region_code", partitionsPersons: true),
                TableDimension(name: "la_code", partitionsPersons: true, parent: "region_code"),
                TableDimension(name: "quarter", partitionsPersons: false),
            ])
        #expect(requests.groupingSets.contains(["region_code", "quarter"]) && requests.groupingSets.contains(["region_code"]))
        #expect(!requests.groupingSets.contains { $0.contains("la_code") && !$0.contains("region_code") })
        #expect(requests.groupingSets.count == 6)
        let waits = try Self.compiled("waits-by-la-quarter")
        #expect(waits.dimensions.map(\.parent) == [nil, nil])
        #expect(waits.groupingSets == [["la_code", "quarter"], ["la_code"], ["quarter"], []])
        let threeWay = try Self.compiled("waits-by-region-support-reason")
        #expect(threeWay.groupingSets.count == 8)
    }

    @Test(arguments: allQueries) func measuresHaveTheColumnsTheDisclosureEngineNeeds(id: String) throws {
        let query = try #require(Self.policy.queries[id])
        let dataset = try #require(Self.policy.datasets[query.dataset])
        let compiled = try Self.compiled(id)
        #expect(compiled.measures.map(\.name) == query.measures)
        var expectedColumns = ["grouping"] + query.dimensions
        for name in query.measures {
            let measure = try #require(dataset.measure(named: name))
            let parts: [String]
            switch measure.formula.kind {
            case .persons: parts = ["persons", "key"]
            case .events: parts = ["count", "persons", "key"]
            case .sum: parts = ["total", "persons", "largest", "key"]
            case .mean: parts = ["value", "persons", "records", "key"]
            case .median: parts = ["value", "persons", "key"]
            case .rate: parts = ["numerator", "denominator", "key", "numerator_key"]
            }
            #expect(compiled.measures.first { $0.name == name }?.kind == measure.formula.kind)
            expectedColumns += parts.map { "\(name).\($0)" }
        }
        #expect(compiled.columns.map(\.name) == expectedColumns)
        for column in compiled.columns.dropFirst(1 + query.dimensions.count) {
            #expect(compiled.sql.contains("AS \"\(column.name)\""), "\(column.name)")
        }
    }

    @Test func ratesCountNumeratorPersonsAmongDenominatorPersons() throws {
        let sql = try Self.compiled("discharge-reablement-by-la").sql
        let person = "count(DISTINCT \"person_id\")"
        #expect(sql.contains("\(person) FILTER (WHERE \"reablement_within_7_days\") AS \"reablement_rate.numerator\""))
        #expect(sql.contains("\(person) AS \"reablement_rate.denominator\""))
        #expect(sql.contains("\(person) FILTER (WHERE \"at_home_91_days\" AND \"reablement_within_7_days\") AS \"at_home_91_days_rate.numerator\""))
        #expect(sql.contains("\(person) FILTER (WHERE \"reablement_within_7_days\") AS \"at_home_91_days_rate.denominator\""))
    }

    @Test func everyMeasureHasACellKeyOverExactlyThePersonsItCounts() throws {
        let key = { (condition: String?) in
            "coalesce(sum(DISTINCT \"record_key\")" + (condition.map { " FILTER (WHERE \($0))" } ?? "") + " % 4294967296, 0)::bigint"
        }
        let requests = try Self.compiled("requests-by-la-quarter").sql
        #expect(requests.contains("\(key(nil)) AS \"persons.key\""))
        #expect(requests.contains("\(key(nil)) AS \"requests.key\""))
        let rates = try Self.compiled("discharge-reablement-by-la").sql
        #expect(rates.contains("\(key(nil)) AS \"reablement_rate.key\""))
        #expect(rates.contains("\(key("\"reablement_within_7_days\"")) AS \"reablement_rate.numerator_key\""))
        #expect(rates.contains("\(key("\"reablement_within_7_days\"")) AS \"at_home_91_days_rate.key\""))
        #expect(rates.contains("\(key("\"at_home_91_days\" AND \"reablement_within_7_days\"")) AS \"at_home_91_days_rate.numerator_key\""))
        let waits = try Self.compiled("waits-by-la-quarter").sql
        #expect(waits.contains("\(key("\"days_to_assessment\" IS NOT NULL")) AS \"mean_days_to_assessment.key\""))
        #expect(waits.contains("\(key("\"days_to_assessment\" IS NOT NULL")) AS \"median_days_to_assessment.key\""))
        // The record key is read only inside those aggregates (and, for sums, carried per person): never grouped or returned.
        for id in Self.allQueries {
            let compiled = try Self.compiled(id)
            #expect(!compiled.columns.contains { $0.name.contains("record_key") })
            #expect(!compiled.groupingSets.joined().contains("record_key"))
            let keyColumns = compiled.columns.filter { $0.name.hasSuffix(".key") || $0.name.hasSuffix(".numerator_key") }
            #expect(keyColumns.count == compiled.measures.count + compiled.measures.filter { $0.kind == .rate }.count)
            #expect(keyColumns.allSatisfy { $0.type == .integer })
        }
    }

    @Test func meansAndMediansCarryThePersonsBehindThem() throws {
        let sql = try Self.compiled("waits-by-la-quarter").sql
        #expect(sql.contains("avg(\"days_to_assessment\")::float8 AS \"mean_days_to_assessment.value\""))
        #expect(sql.contains("percentile_cont(0.5) WITHIN GROUP (ORDER BY \"days_to_assessment\"::float8) AS \"median_days_to_assessment.value\""))
        #expect(
            sql.contains("count(DISTINCT \"person_id\") FILTER (WHERE \"days_to_assessment\" IS NOT NULL) AS \"median_days_to_assessment.persons\""))
        #expect(!sql.contains("person_totals"), "no per-person pre-aggregation without a sum")
    }

    @Test func fixedFiltersAreBoundToo() throws {
        let waits = try Self.compiled("waits-by-la-quarter")
        #expect(waits.binds.dropFirst(2) == [.boolean(true)])
        #expect(waits.sql.contains("\"assessed\" = $3::boolean"))
        let reablement = try Self.compiled("discharge-reablement-by-la")
        #expect(reablement.binds.dropFirst(2) == [.textArray(["usual_residence"])])
        #expect(reablement.sql.contains("\"discharge_destination\" = ANY($3::text[])"))
        let services = try QueryCompiler.compile(
            try Self.authorised("services-by-type-quarter", parameters: ["from": "2024Q1", "to": "2024Q4", "la_code": "E08000025"]))
        #expect(
            services.binds == [
                .date(CivilDate(year: 2024, month: 1, day: 1)!), .date(CivilDate(year: 2024, month: 12, day: 31)!), .textArray(["service"]),
                .textArray(["E08000025"]),
            ])
        #expect(services.sql.contains("\"la_code\" = ANY($4::text[])"))
        #expect(!services.sql.contains("E08000025"))
    }

    @Test func sumsAggregatePerPersonWithinEveryGroupingSetAndReturnTheLargestContributions() throws {
        let query = try #require(Self.policy.queries["home-care-cost-by-support-reason"])
        let dataset = try #require(Self.policy.datasets[query.dataset])
        let strict = DisclosureRules(dominanceN: 3)
        let compiled = try QueryCompiler.compile(query, dataset: dataset, period: dataset.coverage, parameterFilters: [], rules: strict)
        #expect(compiled.binds.last == .integer(3))
        let n = compiled.binds.count
        let sql = compiled.sql
        #expect(sql.contains("person_totals AS ("))
        for set in compiled.groupingSets {
            let perPerson = "(" + (set + ["person_id", "record_key"]).map { "\"\($0)\"" }.joined(separator: ", ") + ")"
            #expect(sql.contains(perPerson), "per-person set \(set)")
        }
        #expect(sql.contains("sum(\"weekly_cost\") AS \"total_weekly_cost.person_total\""))
        #expect(
            sql.contains(
                "(array_agg(\"total_weekly_cost.person_total\"::float8 ORDER BY \"total_weekly_cost.person_total\" DESC) "
                    + "FILTER (WHERE \"total_weekly_cost.person_total\" IS NOT NULL))[1:$\(n)::int] AS \"total_weekly_cost.largest\""))
        #expect(sql.contains("count(\"total_weekly_cost.person_total\") AS \"total_weekly_cost.persons\""))
        // Each contributor's record key is carried through person_totals (grouped by person) and summed once per cell.
        #expect(
            sql.contains(
                "coalesce(sum(\"record_key\") FILTER (WHERE \"total_weekly_cost.person_total\" IS NOT NULL) % 4294967296, 0)::bigint "
                    + "AS \"total_weekly_cost.key\""))
        // The median and mean stay row-level.
        #expect(sql.contains("percentile_cont(0.5) WITHIN GROUP (ORDER BY \"planned_hours\"::float8) AS \"median_planned_hours.value\""))
        // The default profile's n = 2 still returns two (p% needs the top two).
        let loose = try QueryCompiler.compile(
            query, dataset: dataset, period: dataset.coverage, parameterFilters: [], rules: DisclosureRules(dominanceN: 1))
        #expect(loose.binds.last == .integer(2))
    }

    @Test func anInjectionLookingValueIsOnlyEverABind() throws {
        let query = try #require(Self.policy.queries["services-by-type-quarter"])
        let dataset = try #require(Self.policy.datasets[query.dataset])
        let evil = "E08000025'); DROP TABLE linked.person; --"
        let compiled = try QueryCompiler.compile(
            query, dataset: dataset, period: dataset.coverage, parameterFilters: [.dimension("la_code", in: [evil])], rules: DisclosureRules())
        #expect(compiled.binds.contains(.textArray([evil])))
        #expect(!compiled.sql.contains("DROP"))
        #expect(!compiled.sql.contains("E08000025"))
        #expect(!compiled.sql.contains("--"))
    }

    @Test func identifiersOutsideTheCatalogueOrPatternAreRefused() throws {
        let query = try #require(Self.policy.queries["services-by-type-quarter"])
        let dataset = try #require(Self.policy.datasets[query.dataset])
        let other = try #require(Self.policy.datasets["request_waits"])
        func refused(_ filters: [QueryFilter], over data: Dataset) -> QueryError? {
            #expect(throws: QueryError.self) {
                try QueryCompiler.compile(query, dataset: data, period: data.coverage, parameterFilters: filters, rules: DisclosureRules())
            }
        }
        let injected = refused([.dimension("la_code\" OR true --", in: ["x"])], over: dataset)
        #expect(injected?.code == .invalidCatalogue)
        #expect(injected?.code.description == "invalid_catalogue")
        #expect(refused([.dimension("outcome", in: ["ended"])], over: dataset)?.message.contains("not a dimension") == true)
        #expect(refused([.flag("assessed", equals: true)], over: dataset)?.message.contains("not a flag") == true)
        #expect(refused([], over: other)?.message.contains("reads dataset care_events") == true)
        // The record key is never a filter (nor a dimension or measure: the policy loader refuses those, see PolicyLoadingTests).
        #expect(refused([.dimension(dataset.recordKey, in: ["1"])], over: dataset)?.message.contains("record key") == true)
        #expect(refused([.flag(dataset.recordKey, equals: true)], over: dataset)?.message.contains("record key") == true)
    }

    @Test func resultRowsDecodeWithTotalsAsNil() throws {
        let compiled = try Self.compiled("requests-by-la-quarter")
        // grouping bits: region_code (4), la_code (2), quarter (1).
        let regionTotal: [ResultValue] = [
            .integer(0b011), .text("E12000001"), .null, .null, .integer(40), .integer(4_294_967_295), .integer(55), .integer(40),
            .integer(4_294_967_295),
        ]
        #expect(
            try compiled.statisticsRow(regionTotal)
                == StatisticsRow(
                    dimensions: ["E12000001", nil, nil], cells: [.persons(40), .events(count: 55, persons: 40)],
                    keys: [CellKey(persons: 4_294_967_295), CellKey(persons: 4_294_967_295)]))
        let cell: [ResultValue] = [
            .integer(0), .text("E12000001"), .text("E06000001"), .text("2024Q1"), .integer(9), .integer(17), .integer(12), .integer(9),
            .integer(17),
        ]
        #expect(try compiled.statisticsRow(cell).dimensions == ["E12000001", "E06000001", "2024Q1"])
        let england: [ResultValue] = [.integer(0b111), .null, .null, .null, .integer(900), .integer(0), .integer(1200), .integer(900), .integer(0)]
        #expect(try compiled.statisticsRow(england).dimensions == [nil, nil, nil])
        var totalWithValue = regionTotal
        totalWithValue[2] = .text("E06000001")
        var cellWithoutValue = cell
        cellWithoutValue[3] = .null
        var negative = cell
        negative[4] = .integer(-1)
        // A cell key is in 0..<2^32 and never NULL.
        var keyTooLarge = cell
        keyTooLarge[5] = .integer(4_294_967_296)
        var keyNegative = cell
        keyNegative[5] = .integer(-1)
        var keyNull = cell
        keyNull[8] = .null
        for bad in [
            totalWithValue, cellWithoutValue, negative, keyTooLarge, keyNegative, keyNull, Array(cell.dropLast()), [.integer(8)] + cell.dropFirst(),
            [.text("0")] + cell.dropFirst(),
        ] {
            let error = #expect(throws: QueryError.self) { try compiled.statisticsRow(bad) }
            #expect(error?.code == .unexpectedResult)
        }
    }

    @Test func sumsMeansAndMediansNameTheValueTheySummarise() throws {
        // Disclosure control withholds a mean beside a suppressed sum of the same value; it learns "same" from here.
        let cost = try Self.compiled("home-care-cost-by-support-reason")
        #expect(cost.measures.map(\.value) == [nil, "weekly_cost", "weekly_cost", "planned_hours"])
    }

    @Test func sumMeanMedianAndRateRowsDecode() throws {
        let cost = try Self.compiled("home-care-cost-by-support-reason")
        let row: [ResultValue] = [
            .integer(0b01), .text("mental_health"), .null, .integer(30), .integer(11), .double(5000), .integer(30), .doubleArray([900, 600]),
            .integer(11), .double(166.5), .integer(30), .integer(32), .integer(11), .double(10.5), .integer(29), .integer(7),
        ]
        #expect(
            try cost.statisticsRow(row)
                == StatisticsRow(
                    dimensions: ["mental_health", nil],
                    cells: [
                        .persons(30), .sum(MagnitudeStatistic(total: 5000, persons: 30, largest: [900, 600])), .mean(value: 166.5, persons: 30, records: 32),
                        .median(value: 10.5, persons: 29),
                    ],
                    keys: [CellKey(persons: 11), CellKey(persons: 11), CellKey(persons: 11), CellKey(persons: 7)]))
        // Aggregates over no values are NULL: an empty sum, and a mean over nobody.
        let empty: [ResultValue] = [
            .integer(0), .text("mental_health"), .text("E12000001"), .integer(1), .integer(5), .null, .integer(0), .null, .integer(0), .null,
            .integer(0), .integer(0), .integer(0), .null, .integer(0), .integer(0),
        ]
        #expect(
            try cost.statisticsRow(empty).cells == [
                .persons(1), .sum(MagnitudeStatistic(total: 0, persons: 0, largest: [])), .mean(value: 0, persons: 0, records: 0), .median(value: 0, persons: 0),
            ])
        var wrongType = row
        wrongType[7] = .double(900)
        #expect(throws: QueryError.self) { try cost.statisticsRow(wrongType) }
        let rates = try Self.compiled("discharge-reablement-by-la")
        let rateRow: [ResultValue] = [
            .integer(0b11), .null, .null, .integer(500), .integer(1), .integer(120), .integer(500), .integer(1), .integer(2), .integer(80),
            .integer(120), .integer(2), .integer(3),
        ]
        let decoded = try rates.statisticsRow(rateRow)
        #expect(decoded.cells == [.persons(500), .rate(numerator: 120, denominator: 500), .rate(numerator: 80, denominator: 120)])
        // A rate's key is its denominator's; the numerator's has its own.
        #expect(decoded.keys == [CellKey(persons: 1), CellKey(persons: 1, numerator: 2), CellKey(persons: 2, numerator: 3)])
    }
}
