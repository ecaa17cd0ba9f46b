import SDECommon
import Testing

@Suite struct CivilDateTests {
    @Test(arguments: ["2024-02-29", "2000-02-29", "1999-12-31", "1970-01-01"])
    func validDatesRoundTrip(_ text: String) throws {
        let date = try #require(CivilDate(parsing: text))
        #expect(date.description == text)
        #expect(CivilDate(dayNumber: date.dayNumber) == date)
    }

    @Test(arguments: ["2023-02-29", "1900-02-29", "2024-13-01", "2024-04-31", "2024-00-10", "24-01-01", "2024/01/01", "2024-01-1x", ""])
    func impossibleDatesAreRejected(_ text: String) {
        #expect(CivilDate(parsing: text) == nil)
    }

    @Test func dayNumbersAreContinuous() {
        #expect(CivilDate(parsing: "1970-01-01")!.dayNumber == 0)
        #expect(CivilDate(parsing: "2024-03-01")!.days(until: CivilDate(parsing: "2024-02-28")!) == -2)
        var d = CivilDate(parsing: "1899-12-25")!
        var increasing = true
        for _ in 0..<100_000 {
            let next = d.adding(days: 1)
            increasing = increasing && next > d && CivilDate(parsing: next.description) == next
            d = next
        }
        #expect(increasing)
        // Python: datetime.date(1899, 12, 25) + timedelta(days=100000)
        #expect(d.description == "2173-10-09")
    }

    @Test func quarters() throws {
        let q = try #require(Quarter(parsing: "2023Q4"))
        #expect(q.firstDay.description == "2023-10-01")
        #expect(q.lastDay.description == "2023-12-31")
        #expect(q.next.description == "2024Q1")
        #expect(CivilDate(parsing: "2024-06-30")!.quarter.description == "2024Q2")
        #expect(Quarter(parsing: "2023Q5") == nil)
        #expect(Quarter(parsing: "2023q1") == nil)
    }
}
