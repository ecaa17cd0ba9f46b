import Foundation
import SDECommon
import SDEExtracts
import Testing

@Suite struct SyntheticExtractsTests {
    /// Everything read back from a synthetic extract, grouped per person.
    struct ReadBack {
        var care: [[UInt8]: [CareRecord]] = [:]
        var hospital: [[UInt8]: [HospitalRecord]] = [:]
        var quarantined: [QuarantinedRow] = []
        var rowsRead = 0
    }

    static func readBack(_ directory: String) throws -> ReadBack {
        var result = ReadBack()
        for path in try ExtractReader.extractFiles(in: directory) {
            let reader = try ExtractReader(path: path, laCodes: Fixture.laCodes, pseudonymiser: Fixture.pseudonymiser)
            while let batch = try reader.next(batchOf: 1000) {
                for record in batch.care { result.care[record.personID, default: []].append(record) }
                for record in batch.hospital { result.hospital[record.personID, default: []].append(record) }
                result.quarantined += batch.quarantined
            }
            result.rowsRead += reader.rowsRead
        }
        return result
    }

    static func digests(_ directory: String, _ summary: SyntheticExtracts.Summary) throws -> [String: String] {
        var digests: [String: String] = [:]
        for name in summary.fileNames { digests[name] = Hex.sha256(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))) }
        return digests
    }

    @Test func sameSeedSameBytesDifferentSeedDifferentBytes() throws {
        let a = try Fixture.temporaryDirectory(), b = try Fixture.temporaryDirectory(), c = try Fixture.temporaryDirectory()
        defer { [a, b, c].forEach(Fixture.removeDirectory) }
        let first = try SyntheticExtracts.write(persons: 1500, seed: 7, to: a, badRowRate: 0.01, localAuthorities: Fixture.localAuthorities)
        // Input order of the councils does not matter either.
        let second = try SyntheticExtracts.write(
            persons: 1500, seed: 7, to: b, badRowRate: 0.01, localAuthorities: Fixture.localAuthorities.reversed())
        let third = try SyntheticExtracts.write(persons: 1500, seed: 8, to: c, badRowRate: 0.01, localAuthorities: Fixture.localAuthorities)
        #expect(first == second)
        #expect(first.files == 154 && first.fileNames.count == 154)
        #expect(try Self.digests(a, first) == Self.digests(b, second))
        #expect(try Self.digests(a, first)["hospital_spells.csv"] != Self.digests(c, third)["hospital_spells.csv"])
    }

    @Test func nhsNumbersAreValidAndBelongToOnePersonEach() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(directory) }
        let summary = try SyntheticExtracts.write(persons: 3000, seed: 99, to: directory, localAuthorities: Fixture.localAuthorities)
        // The raw files: the generator never quotes, so splitting on commas is exact.
        var identity: [String: String] = [:]
        var spaced = 0
        for name in summary.fileNames {
            let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                let number = try NHSNumber(validating: fields[0]).digits
                if fields[0].contains(" ") { spaced += 1 }
                // Birth year, sex and (in both files) the local authority identify the person the number was given to.
                let person = [fields[1], fields[2], name == "hospital_spells.csv" ? fields[3] : fields[5]].joined(separator: "|")
                #expect(identity[number, default: person] == person)
                identity[number] = person
            }
        }
        #expect(identity.count > 2500 && identity.count <= 3000)
        #expect(spaced > 0)
    }

    @Test func distributionsArePlausible() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(directory) }
        let summary = try SyntheticExtracts.write(persons: 2000, seed: 2024, to: directory, localAuthorities: Fixture.localAuthorities)
        let data = try Self.readBack(directory)
        #expect(data.quarantined.isEmpty)
        #expect(data.rowsRead == summary.rowsWritten)
        #expect(summary.rowsWritten > 2000 * 3)

        let windowStart = CivilDate(year: 2022, month: 4, day: 1)!, windowEnd = CivilDate(year: 2025, month: 3, day: 31)!
        var over65 = 0
        for (person, events) in data.care {
            let first = events.map(\.eventStart).min()!
            if first.year - events[0].birthYear >= 65 { over65 += 1 }
            // One person: one set of attributes, one local authority, one date of death, nothing after it.
            #expect(Set(events.map(\.birthYear)).count == 1)
            #expect(Set(events.map(\.laCode)).count == 1)
            #expect(Set(events.map(\.dateOfDeath)).count == 1)
            if let death = events[0].dateOfDeath {
                #expect(events.allSatisfy { $0.eventStart <= death && ($0.eventEnd ?? death) <= death })
                #expect(data.hospital[person, default: []].allSatisfy { $0.dischargeDate <= death && $0.admissionDate <= death })
            }
            for event in events {
                #expect(event.eventStart >= windowStart && event.eventStart <= windowEnd)
                let earlier = events.filter { $0.eventStart <= event.eventStart }
                switch event.eventType {
                case .assessment: #expect(earlier.contains { $0.eventType == .request })
                case .service: #expect(earlier.contains { $0.eventType == .assessment })
                case .review: #expect(earlier.contains { $0.eventType == .service })
                case .request: break
                }
            }
        }
        #expect(Double(over65) / Double(data.care.count) > 0.5)

        // Waits from request to assessment: days to months, median around four weeks, some over six months.
        var waits: [Int] = []
        for events in data.care.values {
            let sorted = events.sorted { $0.eventStart < $1.eventStart }
            for (i, event) in sorted.enumerated() where event.eventType == .request && event.outcome == .toAssessment {
                if let next = sorted[(i + 1)...].first(where: { $0.eventType == .assessment }) {
                    waits.append(event.eventStart.days(until: next.eventStart))
                }
            }
        }
        waits.sort()
        #expect(waits.count > 200)
        #expect((14...50).contains(waits[waits.count / 2]))
        #expect(waits.contains { $0 > 182 })

        // Services: home care most common; realistic hours and costs.
        let services = data.care.values.joined().filter { $0.eventType == .service }
        let byType = Dictionary(grouping: services, by: { $0.serviceType! })
        #expect(byType[.homeCare, default: []].count == byType.values.map(\.count).max())
        for record in byType[.homeCare, default: []] {
            #expect((20...35).contains(Double(record.unitCost!)!))
            #expect((2...40).contains(Double(record.plannedHours!)!))
        }
        for record in byType[.residentialCare, default: []] + byType[.nursingCare, default: []] {
            #expect(record.plannedHours == "168")
            #expect((4.5...9.5).contains(Double(record.unitCost!)!))
        }

        // Hospital: about 40% of people in care, emergency admissions dominant, hospital-only people exist.
        let inBoth = data.care.keys.filter { data.hospital[$0] != nil }.count
        #expect((0.25...0.55).contains(Double(inBoth) / Double(data.care.count)))
        #expect(data.hospital.keys.contains { data.care[$0] == nil })
        let spells = data.hospital.values.joined()
        let methods = Dictionary(grouping: spells, by: \.admissionMethod).mapValues(\.count)
        #expect(methods[.emergency, default: 0] == methods.values.max())
        #expect(spells.allSatisfy { $0.admissionDate <= $0.dischargeDate })

        // Discharge from hospital into reablement within a week, for people aged 65 and over.
        var reablementAfterDischarge = 0
        for (person, spells) in data.hospital {
            guard let events = data.care[person] else { continue }
            for spell in spells where spell.dischargeDestination == .usualResidence && spell.dischargeDate.year - spell.birthYear >= 65 {
                let gap = events.filter { $0.serviceType == .reablement }.map { spell.dischargeDate.days(until: $0.eventStart) }
                if gap.contains(where: { (0...7).contains($0) }) { reablementAfterDischarge += 1 }
            }
        }
        #expect(reablementAfterDischarge > 50)

        // People are spread roughly by population: Kent has many more than Rutland.
        let perLA = Dictionary(grouping: data.care.values.map { $0[0].laCode }, by: { $0 }).mapValues(\.count)
        #expect(perLA["E10000016", default: 0] > 5 * perLA["E06000017", default: 0])
    }

    @Test func brokenRowsAreExactlyTheQuarantinedRows() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(directory) }
        let summary = try SyntheticExtracts.write(
            persons: 2000, seed: 5, to: directory, badRowRate: 0.05, localAuthorities: Fixture.localAuthorities)
        let data = try Self.readBack(directory)
        let loaded = data.care.values.map(\.count).reduce(0, +) + data.hospital.values.map(\.count).reduce(0, +)
        #expect(data.rowsRead == summary.rowsWritten)
        #expect(loaded + data.quarantined.count == data.rowsRead)
        #expect(data.quarantined.count == summary.rowsBroken)
        #expect(summary.rowsBroken > 0)
        #expect((0.03...0.07).contains(Double(summary.rowsBroken) / Double(summary.rowsWritten)))

        func kind(_ reason: String) -> SyntheticExtracts.Break? {
            if reason == "nhs_number: bad check digit" { return .badCheckDigit }
            if reason == "event_start: not a valid date" || reason == "admission_date: not a valid date" { return .impossibleDate }
            if reason == "la_code: unknown local authority" { return .unknownLACode }
            if reason.hasPrefix("record: ") && reason.contains(" fields, expected ") { return .wrongColumnCount }
            if reason == "event_ref: not valid UTF-8" || reason == "spell_ref: not valid UTF-8" { return .nonUTF8 }
            return nil
        }
        let byKind = Dictionary(grouping: data.quarantined, by: { kind($0.reason) }).mapValues(\.count)
        #expect(byKind[nil] == nil)
        for kind in SyntheticExtracts.Break.allCases {
            #expect(byKind[kind] == summary.brokenRows[kind])
            #expect(summary.brokenRows[kind, default: 0] > 0)
        }
    }

    @Test func argumentsAreChecked() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(directory) }
        let negative = #expect(throws: ExtractError.self) {
            try SyntheticExtracts.write(persons: -1, seed: 1, to: directory, localAuthorities: Fixture.localAuthorities)
        }
        #expect(negative?.code == .badArgument)
        #expect(throws: ExtractError.self) {
            try SyntheticExtracts.write(persons: 1, seed: 1, to: directory, badRowRate: 1.5, localAuthorities: Fixture.localAuthorities)
        }
        let empty = try SyntheticExtracts.write(persons: 0, seed: 1, to: directory + "/a/b", localAuthorities: Fixture.localAuthorities)
        #expect(empty.rowsWritten == 0)
        #expect(try ExtractReader.extractFiles(in: directory + "/a/b").count == 154)
    }
}
