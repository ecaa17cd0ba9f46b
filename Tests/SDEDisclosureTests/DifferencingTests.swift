import SDECommon
import SDEDisclosure
import Testing

/// The differencing guard keyed by population: when two populations are nested, and which cells it withholds.
@Suite struct DifferencingTests {
    let control = DisclosureControl(rules: DisclosureRules())  // k = 10

    static func day(_ month: Int, _ day: Int) -> CivilDate { CivilDate(year: 2024, month: month, day: day)! }
    static let q2 = day(4, 1)...day(6, 30), q3 = day(7, 1)...day(9, 30), half = day(4, 1)...day(9, 30), may = day(5, 1)...day(8, 31)
    static let hartlepool = PopulationPredicate("la_code", in: ["E06000001"]), middlesbrough = PopulationPredicate("la_code", in: ["E06000002"])
    static let northEast = PopulationPredicate("region_code", in: ["E12000001"]), assessed = PopulationPredicate("assessed", in: ["true"])

    static func population(_ window: ClosedRange<CivilDate> = half, predicates: [PopulationPredicate] = [], dataset: String = "request_waits") -> Population {
        Population(dataset: dataset, window: window, predicates: predicates)
    }

    // MARK: nesting

    @Test func windowsNestWhenOneLiesWithinTheOther() {
        #expect(Self.population(Self.q2).isNested(in: Self.population(Self.half)))
        #expect(!Self.population(Self.half).isNested(in: Self.population(Self.q2)))
        #expect(!Self.population(Self.may).isNested(in: Self.population(Self.q2)), "overlapping, not nested")
        #expect(!Self.population(Self.q2).isNested(in: Self.population(Self.q3)))
        #expect(Self.population(Self.q2).isNested(in: Self.population(Self.q2)), "equal windows nest both ways")
    }

    @Test func morePredicatesAreNestedInFewer() {
        let la = Self.population(predicates: [Self.hartlepool]), all = Self.population()
        #expect(la.isNested(in: all) && !all.isNested(in: la))
        #expect(la.and([Self.assessed]).isNested(in: la), "a flag filter, e.g. another vetted query's")
        #expect(!Self.population(predicates: [Self.middlesbrough]).isNested(in: la), "disjoint values")
        #expect(!Self.population(predicates: [Self.assessed]).isNested(in: la), "a predicate on another column")
        #expect(!la.isNested(in: Self.population(predicates: [Self.hartlepool], dataset: "care_events")), "another dataset")
    }

    @Test func setsNestInSupersetsAndInNotNull() {
        let one = Self.population(predicates: [Self.hartlepool])
        let two = Self.population(predicates: [PopulationPredicate("la_code", in: ["E06000001", "E06000002"])])
        let any = Self.population(predicates: [PopulationPredicate(notNull: "la_code")])
        #expect(one.isNested(in: two) && !two.isNested(in: one))
        #expect(one.isNested(in: any) && two.isNested(in: any) && !any.isNested(in: two))
        // Two conditions on one column are their intersection.
        let both = Self.population(predicates: [PopulationPredicate("la_code", in: ["E06000001", "E06000002"]), PopulationPredicate(notNull: "la_code")])
        #expect(both == two)
    }

    @Test func measureConditionsNest() {
        let persons = Self.population(predicates: [Self.northEast])
        let contributors = persons.and([PopulationPredicate(notNull: "days_to_assessment")])
        let numerator = persons.and([Self.assessed])
        #expect(contributors.isNested(in: persons) && numerator.isNested(in: persons))
        #expect(!contributors.isNested(in: numerator) && !numerator.isNested(in: contributors))
    }

    @Test func termsFindEveryContainer() {
        let cell = Self.population(predicates: [Self.hartlepool, Self.northEast, Self.assessed])
        let containers = [
            Self.population(), Self.population(predicates: [Self.northEast]), Self.population(predicates: [PopulationPredicate(notNull: "la_code")]),
            Self.population(predicates: [PopulationPredicate("la_code", in: ["E06000001", "E06000002"]), Self.assessed]), cell,
        ]
        for container in containers {
            #expect(cell.isNested(in: container))
            #expect(cell.containerTermSets.contains(container.terms), "\(container.predicates)")
            #expect(Set(container.terms).isSubset(of: cell.terms))
        }
    }

    // MARK: the guard

    /// One measure of persons, one row per population given, with its count.
    static func table(_ counts: [Int]) -> StatisticsTable {
        StatisticsTable(
            dimensions: [TableDimension(name: "quarter", partitionsPersons: false)], measures: [TableMeasure(name: "persons", kind: .persons)],
            rows: counts.enumerated().map { i, n in StatisticsRow(dimensions: [i == counts.count - 1 ? nil : "v\(i)"], cells: [.persons(n)]) })
    }

    /// An earlier population containing this answer's cell (Hartlepool over the half year vs its second quarter, or the
    /// other way round) is compared whichever is the larger; 1 to k - 1 persons apart is unsafe.
    @Test(arguments: [(0, false), (1, true), (9, true), (10, false), (11, false), (-1, true), (-9, true), (-10, false)])
    func anEarlierNestedPopulation(difference: Int, suppressed: Bool) throws {
        let table = Self.table([40, 100])
        let cells = [[CellPopulations(persons: Self.population(Self.q2, predicates: [Self.hartlepool]))], [CellPopulations(persons: Self.population())]]
        for earlier in [Self.population(Self.half, predicates: [Self.hartlepool]), Self.population(Self.day(5, 1)...Self.day(5, 31), predicates: [Self.hartlepool, Self.assessed])] {
            let input = DifferencingInput(cells: cells, earlier: [CountedPopulation(earlier, persons: 40 + difference)])
            #expect(try control.differencingSuppressions(table, input) == (suppressed ? [CellPosition(row: 0, measure: 0)] : []))
        }
    }

    @Test func earlierPopulationsThatDoNotNestAreIgnored() throws {
        let table = Self.table([40, 55])
        let cells = [[CellPopulations(persons: Self.population(Self.q2, predicates: [Self.hartlepool]))], [CellPopulations(persons: Self.population())]]
        let earlier: Set<CountedPopulation> = [
            CountedPopulation(Self.population(Self.q2, predicates: [Self.middlesbrough]), persons: 39),
            CountedPopulation(Self.population(Self.may, predicates: [Self.hartlepool]), persons: 39),
            CountedPopulation(Self.population(Self.q2, predicates: [Self.hartlepool], dataset: "care_events"), persons: 39),
        ]
        #expect(try control.differencingSuppressions(table, DifferencingInput(cells: cells, earlier: earlier)).isEmpty)
    }

    /// Within one answer: a quarter cell and the total over the window (which contains it) differ by the persons seen
    /// only in other quarters; 1 to k - 1 of them withholds the finer cell, the quarter.
    @Test(arguments: [0, 1, 9, 10, 11])
    func aQuarterCellAndItsWindowTotal(difference: Int) throws {
        let table = Self.table([30, 12, 30 + difference])
        let cells = [Self.q2, Self.q3, Self.half].map { [CellPopulations(persons: Self.population($0, predicates: [Self.hartlepool]))] }
        let expected: Set<CellPosition> = (1...9).contains(difference) ? [CellPosition(row: 0, measure: 0)] : []
        #expect(try control.differencingSuppressions(table, DifferencingInput(cells: cells)) == expected)
    }

    /// Every margin that contains a cell is compared, not only its direct parent: a local authority's cell against the
    /// grand total, where the region total in between is far off.
    @Test func everyContainingMarginIsCompared() throws {
        let table = StatisticsTable(
            dimensions: [TableDimension(name: "sex", partitionsPersons: true)], measures: [TableMeasure(name: "persons", kind: .persons)],
            rows: [StatisticsRow(dimensions: ["F"], cells: [.persons(40)]), StatisticsRow(dimensions: [nil], cells: [.persons(45)])])
        let cells = [[CellPopulations(persons: Self.population(Self.q2, predicates: [Self.hartlepool]))], [CellPopulations(persons: Self.population(Self.half))]]
        #expect(try control.differencingSuppressions(table, DifferencingInput(cells: cells)) == [CellPosition(row: 0, measure: 0)])
    }

    @Test func ratesCompareNumeratorsAndDenominators() throws {
        let table = StatisticsTable(
            dimensions: [], measures: [TableMeasure(name: "assessed_rate", kind: .rate)],
            rows: [StatisticsRow(dimensions: [], cells: [.rate(numerator: 30, denominator: 50)])])
        let denominator = Self.population(predicates: [Self.northEast]), numerator = denominator.and([Self.assessed])
        let cells = [[CellPopulations(persons: denominator, numerator: numerator)]]
        for (earlier, unsafe) in [
            (CountedPopulation(numerator.and([Self.hartlepool]), persons: 28), true),
            (CountedPopulation(denominator.and([Self.hartlepool]), persons: 45), true),
            (CountedPopulation(denominator, persons: 50), false),
            (CountedPopulation(numerator, persons: 30), false),
        ] {
            let suppressed = try control.differencingSuppressions(table, DifferencingInput(cells: cells, earlier: [earlier]))
            #expect(suppressed == (unsafe ? [CellPosition(row: 0, measure: 0)] : []), "\(earlier.persons)")
        }
    }

    @Test func differencedCellsArePrimaryAndGetPartners() throws {
        let table = oneWay([40, 30, 25])
        let cells = (0..<4).map { [CellPopulations(persons: Self.population(Self.q2, predicates: $0 < 3 ? [PopulationPredicate("sex", in: ["v\($0)"])] : []))] }
        let earlier = CountedPopulation(Self.population(Self.half, predicates: [PopulationPredicate("sex", in: ["v0"])]), persons: 38)
        let protected = try control.protect(table, differencing: DifferencingInput(cells: cells, earlier: [earlier]))
        #expect(protected.rows.map(\.cells[0].rule) == [.differencing, nil, .secondary, nil])
        #expect(protected.summary.suppressed == [.differencing: 1, .secondary: 1])
        #expect(protected.audit.passed)
    }

    @Test func aCellAlreadySuppressedKeepsItsPrimaryRuleAndIsNotCompared() throws {
        let table = oneWay([40, 3, 25])
        let cells = (0..<4).map { [CellPopulations(persons: Self.population(Self.q2, predicates: $0 < 3 ? [PopulationPredicate("sex", in: ["v\($0)"])] : []))] }
        let earlier = CountedPopulation(Self.population(Self.half, predicates: [PopulationPredicate("sex", in: ["v1"])]), persons: 5)
        let protected = try control.protect(table, differencing: DifferencingInput(cells: cells, earlier: [earlier]))
        #expect(protected.rows[1].cells[0] == .suppressed(.threshold))
        #expect(try control.differencingSuppressions(table, DifferencingInput(cells: cells, earlier: [earlier])).isEmpty)
    }

    @Test func aGuardInputOfAnotherShapeIsRefused() {
        #expect(throws: DisclosureError.self) { try control.protect(oneWay([40, 30]), differencing: DifferencingInput(cells: [])) }
    }
}
