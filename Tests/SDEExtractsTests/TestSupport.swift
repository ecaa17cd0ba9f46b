import Foundation
import SDEExtracts

/// Shared fixtures: the repository's local authority list, a fixed key, temporary directories and row builders.
enum Fixture {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let localAuthorities: [LocalAuthority] = {
        // The file is part of the repository; a failure here is a broken checkout.
        try! LocalAuthority.load(from: repositoryRoot.appendingPathComponent("Sql/local_authorities.csv").path)
    }()

    static let laCodes = Set(localAuthorities.map(\.code))

    /// Key bytes 0x00, 0x01, ..., 0x1f.
    static let keyBytes: [UInt8] = Array(0..<32)
    static let keyHex = keyBytes.map { String(format: "%02x", $0) }.joined()
    static let key = try! PseudonymisationKey(fileContents: Array((keyHex + "\n").utf8))
    static let pseudonymiser = Pseudonymiser(key: key)

    /// A fresh empty directory, removed by the caller with `removeDirectory`.
    static func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sde-extracts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    static func removeDirectory(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A valid social care row of `E06000001` (a request), with some columns replaced.
    static func careRow(_ overrides: [String: String] = [:]) -> String {
        let base: [String: String] = [
            "nhs_number": "9434765919", "birth_year": "1940", "sex": "F", "ethnicity": "white", "date_of_death": "", "la_code": "E06000001",
            "event_ref": "EV1", "event_type": "request", "event_start": "2023-05-01", "event_end": "2023-05-02", "outcome": "to_assessment",
            "service_type": "", "support_reason": "physical_support", "planned_hours": "", "unit_cost": "",
        ]
        return ExtractKind.socialCareColumns.map { overrides[$0] ?? base[$0]! }.joined(separator: ",")
    }

    /// A valid home care service row with some columns replaced.
    static func serviceRow(_ overrides: [String: String] = [:]) -> String {
        let service = [
            "event_type": "service", "outcome": "ongoing", "service_type": "home_care", "planned_hours": "10.5", "unit_cost": "24.30",
            "event_end": "",
        ]
        return careRow(service.merging(overrides) { $1 })
    }

    /// A valid hospital row with some columns replaced.
    static func hospitalRow(_ overrides: [String: String] = [:]) -> String {
        let base: [String: String] = [
            "nhs_number": "4010232137", "birth_year": "1950", "sex": "M", "la_code": "E10000016", "provider_code": "RTH08", "spell_ref": "SP1",
            "admission_date": "2023-01-10", "discharge_date": "2023-01-15", "admission_method": "emergency",
            "discharge_destination": "usual_residence", "diagnosis_chapter": "IX",
        ]
        return ExtractKind.hospitalColumns.map { overrides[$0] ?? base[$0]! }.joined(separator: ",")
    }

    static let careHeader = ExtractKind.socialCareColumns.joined(separator: ",")
    static let hospitalHeader = ExtractKind.hospitalColumns.joined(separator: ",")

    /// Writes `bytes` as `name` in a new temporary directory and reads every item; returns the items and the reader.
    static func read(_ bytes: [UInt8], name: String = "social_care_E06000001.csv", chunkSize: Int = 1 << 20) throws -> ([ExtractItem], ExtractReader)
    {
        let directory = try temporaryDirectory()
        defer { removeDirectory(directory) }
        let path = directory + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let reader = try ExtractReader(path: path, laCodes: laCodes, pseudonymiser: pseudonymiser, chunkSize: chunkSize)
        var items: [ExtractItem] = []
        while let item = try reader.next() { items.append(item) }
        return (items, reader)
    }

    static func read(_ text: String, name: String = "social_care_E06000001.csv") throws -> ([ExtractItem], ExtractReader) {
        try read(Array(text.utf8), name: name)
    }
}

extension ExtractItem {
    var care: CareRecord? { if case .care(let record) = self { record } else { nil } }
    var hospital: HospitalRecord? { if case .hospital(let record) = self { record } else { nil } }
    var quarantined: QuarantinedRow? { if case .quarantined(let row) = self { row } else { nil } }
}
