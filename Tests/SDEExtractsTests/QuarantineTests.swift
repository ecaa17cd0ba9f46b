import SDECommon
import SDEExtracts
import Testing

@Suite struct QuarantineTests {
    @Test(
        arguments: [
            (["nhs_number": ""], "nhs_number: missing"),
            (["nhs_number": "943476591"], "nhs_number: not 10 digits"),
            (["nhs_number": "943-476-5919"], "nhs_number: not 10 digits"),
            (["nhs_number": "9434765918"], "nhs_number: bad check digit"),
            (["nhs_number": "943 476 5910"], "nhs_number: bad check digit"),
            (["birth_year": "1899"], "birth_year: outside 1900..2008"),
            (["birth_year": "2009"], "birth_year: outside 1900..2008"),
            (["birth_year": "19x0"], "birth_year: not a four-digit year"),
            (["sex": "Q"], "sex: unknown code"),
            (["sex": "f"], "sex: unknown code"),
            (["ethnicity": ""], "ethnicity: missing"),
            (["date_of_death": "2023-02-29"], "date_of_death: not a valid date"),
            (["date_of_death": "1939-12-31"], "date_of_death: before the birth year"),
            (["date_of_death": "2031-01-01"], "date_of_death: after 2030-12-31"),
            (["la_code": "E99999999"], "la_code: unknown local authority"),
            (["la_code": "E06000002"], "la_code: does not match the file's local authority"),
            (["la_code": ""], "la_code: missing"),
            (["event_ref": ""], "event_ref: missing"),
            (["event_ref": String(repeating: "r", count: 41)], "event_ref: longer than 40 characters"),
            (["event_ref": "a\tb"], "event_ref: contains a control character"),
            (["event_type": "visit"], "event_type: unknown code"),
            (["event_start": "2023-02-30"], "event_start: not a valid date"),
            (["event_start": "2023-2-3"], "event_start: not a valid date"),
            (["event_start": ""], "event_start: missing"),
            (["event_start": "1999-12-31"], "event_start: before 2000-01-01"),
            (["event_start": "2031-01-01", "event_end": ""], "event_start: after 2030-12-31"),
            (["event_end": "2023-04-30"], "event_end: before event_start"),
            (["outcome": "ended"], "outcome: not allowed for this event_type"),
            (["outcome": "yes"], "outcome: unknown code"),
            (["service_type": "home_care"], "service_type: must be empty unless event_type is service"),
            (["support_reason": ""], "support_reason: missing"),
            (["planned_hours": "10"], "planned_hours: must be empty unless event_type is service"),
            (["unit_cost": "10"], "unit_cost: must be empty unless event_type is service"),
        ] as [([String: String], String)])
    func careRowProblems(_ overrides: [String: String], _ reason: String) throws {
        try expectQuarantined(Fixture.careRow(overrides), reason)
    }

    @Test(
        arguments: [
            (["service_type": ""], "service_type: missing"),
            (["service_type": "gardening"], "service_type: unknown code"),
            (["outcome": "no_change"], "outcome: not allowed for this event_type"),
            (["planned_hours": ""], "planned_hours: missing on a service row"),
            (["planned_hours": "168.01"], "planned_hours: outside 0 (exclusive) to 168"),
            (["planned_hours": "0"], "planned_hours: outside 0 (exclusive) to 168"),
            (["planned_hours": "0.00"], "planned_hours: outside 0 (exclusive) to 168"),
            (["planned_hours": "12.345"], "planned_hours: not a decimal number with at most 2 decimal places"),
            (["planned_hours": ".5"], "planned_hours: not a decimal number with at most 2 decimal places"),
            (["planned_hours": "5."], "planned_hours: not a decimal number with at most 2 decimal places"),
            (["unit_cost": "-5"], "unit_cost: not a decimal number with at most 2 decimal places"),
            (["unit_cost": "1e2"], "unit_cost: not a decimal number with at most 2 decimal places"),
            (["unit_cost": "500.01"], "unit_cost: outside 0 (exclusive) to 500"),
        ] as [([String: String], String)])
    func serviceRowProblems(_ overrides: [String: String], _ reason: String) throws {
        try expectQuarantined(Fixture.serviceRow(overrides), reason)
    }

    @Test func serviceRowBoundsAreInclusive() throws {
        let (items, _) = try Fixture.read(Fixture.careHeader + "\n" + Fixture.serviceRow(["planned_hours": "168.00", "unit_cost": "500"]) + "\n")
        let record = try #require(items.first?.care)
        #expect(record.plannedHours == "168.00")
        #expect(record.unitCost == "500")
    }

    @Test(
        arguments: [
            (["provider_code": "X12"], "provider_code: not R and 2 or 4 upper-case letters or digits"),
            (["provider_code": "RTH0"], "provider_code: not R and 2 or 4 upper-case letters or digits"),
            (["provider_code": "Rth"], "provider_code: not R and 2 or 4 upper-case letters or digits"),
            (["spell_ref": ""], "spell_ref: missing"),
            (["la_code": "E9"], "la_code: unknown local authority"),
            (["admission_date": "2023-04-31"], "admission_date: not a valid date"),
            (["discharge_date": ""], "discharge_date: missing"),
            (["discharge_date": "2023-01-09"], "discharge_date: before admission_date"),
            (["admission_method": "walk_in"], "admission_method: unknown code"),
            (["discharge_destination": "home"], "discharge_destination: unknown code"),
            (["diagnosis_chapter": "XXIII"], "diagnosis_chapter: unknown code"),
            (["diagnosis_chapter": "9"], "diagnosis_chapter: unknown code"),
            (["birth_year": "2015"], "birth_year: outside 1900..2008"),
        ] as [([String: String], String)])
    func hospitalRowProblems(_ overrides: [String: String], _ reason: String) throws {
        try expectQuarantined(Fixture.hospitalRow(overrides), reason, file: "hospital_spells.csv")
    }

    @Test func validHospitalRow() throws {
        let (items, reader) = try Fixture.read(Fixture.hospitalHeader + "\n" + Fixture.hospitalRow() + "\n", name: "hospital_spells.csv")
        #expect(reader.kind == .hospital)
        let record = try #require(items.first?.hospital)
        #expect(record.providerCode == "RTH08")
        #expect(record.laCode == "E10000016")
        #expect(record.diagnosisChapter == .ix)
        #expect(record.dischargeDate.description == "2023-01-15")
        #expect(record.lineNumber == 2)
    }

    @Test(arguments: [
        (Fixture.careRow() + ",extra", "record: 16 fields, expected 15"),
        (
            Fixture.careRow().split(separator: ",", omittingEmptySubsequences: false).dropLast().joined(separator: ","),
            "record: 14 fields, expected 15"
        ),
        (Fixture.careRow(["event_ref": "E\"V"]), "record: quote inside an unquoted field"),
        (Fixture.careRow(["event_ref": "\"EV\"1"]), "record: text after a closing quote"),
        ("", "record: empty line"),
    ])
    func recordProblems(_ row: String, _ reason: String) throws {
        try expectQuarantined(row, reason)
    }

    @Test func nonUTF8BytesAreQuarantinedWithTheirRawBytes() throws {
        var row = Array(Fixture.careRow(["event_ref": "EV1"]).utf8)
        let index = try #require(row.firstIndex(of: UInt8(ascii: "V")))
        row[index] = 0xFF
        let (items, _) = try Fixture.read(Array((Fixture.careHeader + "\n").utf8) + row + [0x0A])
        let quarantined = try #require(items.first?.quarantined)
        #expect(quarantined.reason == "event_ref: not valid UTF-8")
        #expect(quarantined.rawLine == row)
        // Valid multi-byte UTF-8 is fine, and counts as one character each.
        let (accented, _) = try Fixture.read(Fixture.careHeader + "\n" + Fixture.careRow(["event_ref": String(repeating: "é", count: 40)]) + "\n")
        #expect(accented.first?.care?.eventRef.count == 40)
    }

    @Test func unterminatedQuoteAtEndOfFile() throws {
        let (items, _) = try Fixture.read(Fixture.careHeader + "\n" + Fixture.careRow() + "\n" + Fixture.careRow(["event_ref": "\"EV2"]) + "\n")
        #expect(items.count == 2)
        #expect(items[1].quarantined?.reason == "record: unterminated quoted field")
        #expect(items[1].quarantined?.lineNumber == 3)
    }

    @Test func reasonsNeverContainTheNHSNumber() throws {
        let (items, _) = try Fixture.read(Fixture.careHeader + "\n" + Fixture.careRow(["nhs_number": "9434765918"]) + "\n")
        let row = try #require(items.first?.quarantined)
        #expect(!row.reason.contains("943"))
        #expect(row.fileName == "social_care_E06000001.csv")
    }

    @Test func fileLevelErrors() throws {
        let empty = #expect(throws: ExtractError.self) { try Fixture.read("") }
        #expect(empty?.code == .unknownHeader)
        let wrongHeader = #expect(throws: ExtractError.self) { try Fixture.read("nhs_number,birth_year\n") }
        #expect(wrongHeader?.code == .unknownHeader)
        let reordered = ExtractKind.hospitalColumns.reversed().joined(separator: ",")
        #expect(throws: ExtractError.self) { try Fixture.read(reordered + "\n", name: "hospital_spells.csv") }
        let badName = #expect(throws: ExtractError.self) { try Fixture.read(Fixture.careHeader + "\n", name: "care.csv") }
        #expect(badName?.code == .badFileName)
        let unknownLA = #expect(throws: ExtractError.self) { try Fixture.read(Fixture.careHeader + "\n", name: "social_care_E99999999.csv") }
        #expect(unknownLA?.code == .badFileName)
        let missing = #expect(throws: ExtractError.self) {
            try ExtractReader(path: "/nonexistent/hospital_spells.csv", laCodes: Fixture.laCodes, pseudonymiser: Fixture.pseudonymiser)
        }
        #expect(missing?.code == .io)
    }

    private func expectQuarantined(_ row: String, _ reason: String, file: String = "social_care_E06000001.csv") throws {
        let header = file == "hospital_spells.csv" ? Fixture.hospitalHeader : Fixture.careHeader
        let (items, reader) = try Fixture.read(header + "\n" + row + "\n", name: file)
        #expect(reader.rowsRead == 1)
        let quarantined = try #require(items.first?.quarantined, "expected \(reason)")
        #expect(quarantined.reason == reason)
        #expect(quarantined.lineNumber == 2)
        #expect(quarantined.fileName == file)
        #expect(quarantined.rawLine == Array(row.utf8))
    }
}
