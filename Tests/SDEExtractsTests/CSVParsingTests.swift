import Foundation
import SDEExtracts
import Testing

@Suite struct CSVParsingTests {
    @Test func quotedFieldsWithCommasAndDoubledQuotesAreUnescaped() throws {
        let row = Fixture.careRow(["event_ref": #""A,""B"",C""#, "sex": #""F""#])
        let (items, reader) = try Fixture.read(Fixture.careHeader + "\n" + row + "\n")
        let record = try #require(items.first?.care)
        #expect(record.eventRef == #"A,"B",C"#)
        #expect(record.sex == .female)
        #expect(reader.rowsRead == 1)
    }

    @Test func embeddedNewlineKeepsLineNumbersRight() throws {
        // Line 2: a record whose quoted reference spans lines 2-4; line 5: the next record.
        let text =
            Fixture.careHeader + "\n" + Fixture.careRow(["event_ref": "\"A\nB\r\nC\""]) + "\n" + Fixture.careRow(["event_ref": "x"]) + "\n"
            + Fixture.careRow(["nhs_number": "1"]) + "\n"
        let (items, reader) = try Fixture.read(text)
        #expect(reader.rowsRead == 3)
        let first = try #require(items[0].quarantined)
        #expect(first.lineNumber == 2)
        #expect(first.reason == "event_ref: contains a control character")
        #expect(first.rawLine == Array(Fixture.careRow(["event_ref": "\"A\nB\r\nC\""]).utf8))
        #expect(items[1].care?.eventRef == "x")
        #expect(items[1].care?.lineNumber == 5)
        #expect(items[2].quarantined?.lineNumber == 6)
    }

    @Test func crlfLineEndsAndByteOrderMark() throws {
        let text = "\u{FEFF}" + Fixture.careHeader + "\r\n" + Fixture.careRow() + "\r\n" + Fixture.careRow(["event_ref": "EV2"]) + "\r\n"
        let (items, reader) = try Fixture.read(text)
        #expect(reader.kind == .socialCare(laCode: "E06000001"))
        #expect(items.compactMap(\.care).map(\.eventRef) == ["EV1", "EV2"])
        #expect(items.compactMap(\.care).first?.unitCost == nil)
    }

    @Test func lastLineWithoutLineEnd() throws {
        for ending in ["", "\r"] {
            let (items, _) = try Fixture.read(
                Fixture.careHeader + "\n" + Fixture.careRow() + "\n" + Fixture.serviceRow(["event_ref": "EV2"]) + ending)
            #expect(items.count == 2)
            let service = try #require(items.last?.care)
            #expect(service.unitCost == "24.30")
            #expect(service.plannedHours == "10.5")
        }
    }

    @Test func emptyFieldsAreNull() throws {
        let (items, _) = try Fixture.read(Fixture.careHeader + "\n" + Fixture.careRow(["event_end": "", "date_of_death": ""]) + "\n")
        let record = try #require(items.first?.care)
        #expect(record.eventEnd == nil)
        #expect(record.dateOfDeath == nil)
        #expect(record.serviceType == nil)
        #expect(record.plannedHours == nil)
    }

    @Test func aRecordSplitAcrossManyChunksIsReadWhole() throws {
        // A 16-byte chunk forces every record, and the quoted field, across chunk boundaries.
        var text = Fixture.careHeader + "\n"
        for i in 0..<50 { text += Fixture.careRow(["event_ref": "\"R,\"\"\(i)\"\"\""]) + (i % 2 == 0 ? "\r\n" : "\n") }
        let (items, reader) = try Fixture.read(Array(text.utf8), chunkSize: 16)
        #expect(reader.rowsRead == 50)
        #expect(items.compactMap(\.care).map(\.eventRef) == (0..<50).map { #"R,"\#($0)""# })
    }

    @Test func mixedRecordsGiveOneItemEach() throws {
        var text = Fixture.careHeader + "\n"
        text += Fixture.careRow() + "\n"
        text += "\n"  // an empty line is a (quarantined) record, never silently dropped
        text += Fixture.careRow(["birth_year": "x"]) + "\n"
        text += Fixture.serviceRow() + "\n"
        let (items, reader) = try Fixture.read(text)
        #expect(reader.rowsRead == 4)
        #expect(reader.rowsQuarantined == 2)
        #expect(items.compactMap(\.quarantined).map(\.lineNumber) == [3, 4])
        #expect(items.compactMap(\.quarantined).first?.reason == "record: empty line")
    }

    @Test func batchesCoverEveryRow() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(directory) }
        var text = Fixture.careHeader + "\n"
        for i in 0..<25 { text += Fixture.careRow(["event_ref": "E\(i)", "sex": i % 5 == 0 ? "?" : "M"]) + "\n" }
        let path = directory + "/social_care_E06000001.csv"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        let reader = try ExtractReader(path: path, laCodes: Fixture.laCodes, pseudonymiser: Fixture.pseudonymiser)
        var sizes: [Int] = []
        var loaded = 0
        var quarantined = 0
        while let batch = try reader.next(batchOf: 10) {
            sizes.append(batch.rowsRead)
            loaded += batch.care.count
            quarantined += batch.quarantined.count
            #expect(batch.hospital.isEmpty)
        }
        #expect(sizes == [10, 10, 5])
        #expect(loaded == 20 && quarantined == 5)
        #expect(loaded + quarantined == reader.rowsRead)
    }

    @Test func localAuthorityFileHasQuotedNames() throws {
        #expect(Fixture.localAuthorities.count == 153)
        let hull = try #require(Fixture.localAuthorities.first { $0.code == "E06000010" })
        #expect(hull.name == "Kingston upon Hull, City of")
        #expect(hull.regionName == "Yorkshire and The Humber")
    }

    @Test(arguments: [
        ("la_code,la_name\nE06000001,X\n", "header"),
        ("la_code,la_name,region_code,region_name\nE06000001,X,E12000001\n", "3 fields"),
        ("la_code,la_name,region_code,region_name\nE0600001,X,E12000001,North East\n", "8 digits"),
        ("la_code,la_name,region_code,region_name\nE06000001,X,E12000001,NE\nE06000001,Y,E12000001,NE\n", "duplicate"),
        ("la_code,la_name,region_code,region_name\n", "no local authorities"),
    ])
    func malformedLocalAuthorityFiles(_ text: String, _ fragment: String) {
        let error = #expect(throws: ExtractError.self) { try LocalAuthority.parse(csv: Array(text.utf8), fileName: "la.csv") }
        #expect(error?.code == .badLocalAuthorities)
        #expect(error?.description.contains(fragment) == true)
    }
}
