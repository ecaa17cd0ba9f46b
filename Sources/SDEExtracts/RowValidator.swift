import SDECommon

/// Why a record is quarantined: `field: problem` or `record: problem`, never a value from the record.
struct RowProblem: Error {
    let reason: String

    init(_ field: String, _ problem: String) { reason = "\(field): \(problem)" }
}

/// Ten normalised ASCII digits of an NHS number, kept on the stack.
struct NHSDigits {
    var bytes: (UInt64, UInt64) = (0, 0)
}

/// Looks up an enumerated code by its bytes without building a `String`.
struct CodeTable<Value> {
    private let codes: [[UInt8]]
    private let values: [Value]

    init(_ values: [Value], code: (Value) -> String) {
        codes = values.map { Array(code($0).utf8) }
        self.values = values
    }

    @inline(__always)
    func lookup(_ field: UnsafeRawBufferPointer) -> Value? {
        for i in codes.indices where bytesEqual(codes[i], field) { return values[i] }
        return nil
    }
}

/// Whether `field` holds exactly the bytes `expected`.
@inline(__always)
func bytesEqual(_ expected: [UInt8], _ field: UnsafeRawBufferPointer) -> Bool {
    guard expected.count == field.count else { return false }
    return expected.withUnsafeBufferPointer { expected in
        for i in 0..<expected.count where expected[i] != field[i] { return false }
        return true
    }
}

/// The set of valid local authority codes, looked up by bytes; the canonical `String` is reused for every record.
/// (Codes are 9 characters; a code longer than 16 bytes could never match and is left out.)
struct LACodeTable {
    private struct Packed: Hashable {
        var a: UInt64 = 0
        var b: UInt64 = 0
        var count: Int
    }

    private let codes: [Packed: String]

    init(_ codes: Set<String>) {
        var table: [Packed: String] = [:]
        for code in codes {
            let bytes = Array(code.utf8)
            if let packed = bytes.withUnsafeBytes({ LACodeTable.pack($0) }) { table[packed] = code }
        }
        self.codes = table
    }

    @inline(__always)
    func lookup(_ field: UnsafeRawBufferPointer) -> String? {
        guard let packed = LACodeTable.pack(field) else { return nil }
        return codes[packed]
    }

    @inline(__always)
    private static func pack(_ bytes: UnsafeRawBufferPointer) -> Packed? {
        guard bytes.count <= 16 else { return nil }
        var packed = Packed(count: bytes.count)
        for (i, byte) in bytes.enumerated() {
            if i < 8 { packed.a |= UInt64(byte) << (8 * UInt64(i)) } else { packed.b |= UInt64(byte) << (8 * UInt64(i - 8)) }
        }
        return packed
    }
}

/// Validates the fields of one record of either extract and pseudonymises its NHS number.
struct RowValidator {
    static let earliestEventDate = CivilDate(year: 2000, month: 1, day: 1)!
    static let latestDate = CivilDate(year: 2030, month: 12, day: 31)!
    static let birthYears = 1900...2008
    static let maxRefCharacters = 40

    private let pseudonymiser: Pseudonymiser
    private let laCodes: LACodeTable
    private let sexes = CodeTable(Sex.allCases, code: \.rawValue)
    private let ethnicities = CodeTable(Ethnicity.allCases, code: \.rawValue)
    private let eventTypes = CodeTable(CareEventType.allCases, code: \.rawValue)
    private let outcomes = CodeTable(CareOutcome.allCases, code: \.rawValue)
    private let serviceTypes = CodeTable(ServiceType.allCases, code: \.rawValue)
    private let supportReasons = CodeTable(SupportReason.allCases, code: \.rawValue)
    private let admissionMethods = CodeTable(AdmissionMethod.allCases, code: \.rawValue)
    private let destinations = CodeTable(DischargeDestination.allCases, code: \.rawValue)
    private let chapters = CodeTable(DiagnosisChapter.allCases, code: \.rawValue)

    init(pseudonymiser: Pseudonymiser, laCodes: Set<String>) {
        self.pseudonymiser = pseudonymiser
        self.laCodes = LACodeTable(laCodes)
    }

    // MARK: Records

    /// A social care record of the extract of local authority `fileLA`.
    func care(_ row: CSVRecord, fileLA: String, fileLABytes: [UInt8]) throws(RowProblem) -> CareRecord {
        let nhs = try checkShape(row, columns: ExtractKind.socialCareColumns)
        let birthYear = try year(row.field(1), "birth_year")
        let sex = try code(row.field(2), "sex", sexes)
        let ethnicity = try code(row.field(3), "ethnicity", ethnicities)
        let death = try dateOfDeath(row.field(4), birthYear: birthYear)
        guard bytesEqual(fileLABytes, row.field(5)) else {
            _ = try laCode(row.field(5))
            throw RowProblem("la_code", "does not match the file's local authority")
        }
        let ref = try reference(row.field(6), "event_ref")
        let type = try code(row.field(7), "event_type", eventTypes)
        let start = try date(row.field(8), "event_start", from: Self.earliestEventDate)
        let end = try optionalDate(row.field(9), "event_end", from: start, "before event_start")
        let outcome = try code(row.field(10), "outcome", outcomes)
        guard outcome.isAllowed(for: type) else { throw RowProblem("outcome", "not allowed for this event_type") }
        let service: ServiceType?
        let hours: String?
        let cost: String?
        if type == .service {
            service = try code(row.field(11), "service_type", serviceTypes)
        } else {
            service = nil
            try empty(row.field(11), "service_type")
        }
        let reason = try code(row.field(12), "support_reason", supportReasons)
        if type == .service {
            hours = try decimal(row.field(13), "planned_hours", maxHundredths: 16_800)
            cost = try decimal(row.field(14), "unit_cost", maxHundredths: 50_000)
        } else {
            try empty(row.field(13), "planned_hours")
            try empty(row.field(14), "unit_cost")
            hours = nil
            cost = nil
        }
        return CareRecord(
            lineNumber: row.line, personID: personID(nhs), birthYear: birthYear, sex: sex, ethnicity: ethnicity, dateOfDeath: death, laCode: fileLA,
            eventRef: ref, eventType: type, eventStart: start, eventEnd: end, outcome: outcome, serviceType: service, supportReason: reason,
            plannedHours: hours, unitCost: cost
        )
    }

    /// A hospital record.
    func hospital(_ row: CSVRecord) throws(RowProblem) -> HospitalRecord {
        let nhs = try checkShape(row, columns: ExtractKind.hospitalColumns)
        let birthYear = try year(row.field(1), "birth_year")
        let sex = try code(row.field(2), "sex", sexes)
        let la = try laCode(row.field(3))
        let provider = try providerCode(row.field(4))
        let ref = try reference(row.field(5), "spell_ref")
        let admission = try date(row.field(6), "admission_date", from: Self.earliestEventDate)
        let discharge = try date(row.field(7), "discharge_date", from: admission, "before admission_date")
        let method = try code(row.field(8), "admission_method", admissionMethods)
        let destination = try code(row.field(9), "discharge_destination", destinations)
        let chapter = try code(row.field(10), "diagnosis_chapter", chapters)
        return HospitalRecord(
            lineNumber: row.line, personID: personID(nhs), birthYear: birthYear, sex: sex, laCode: la, providerCode: provider, spellRef: ref,
            admissionDate: admission, dischargeDate: discharge, admissionMethod: method, dischargeDestination: destination,
            diagnosisChapter: chapter
        )
    }

    /// Record-level checks (quoting, column count, UTF-8 in every field), then the NHS number, which both kinds have first:
    /// its ten ASCII digits.
    private func checkShape(_ row: CSVRecord, columns: [String]) throws(RowProblem) -> NHSDigits {
        if row.raw.isEmpty { throw RowProblem("record", "empty line") }
        if let problem = row.problem { throw RowProblem("record", problem) }
        guard row.fieldCount == columns.count else { throw RowProblem("record", "\(row.fieldCount) fields, expected \(columns.count)") }
        if !row.allASCII {
            for i in 0..<columns.count where String(validating: row.field(i), as: UTF8.self) == nil {
                throw RowProblem(columns[i], "not valid UTF-8")
            }
        }
        var digits = NHSDigits()
        do {
            try withUnsafeMutableBytes(of: &digits.bytes) { (out) throws(NHSNumber.ValidationError) in
                try NHSNumber.normalise(row.field(0), into: out.baseAddress!)
            }
        } catch {
            throw RowProblem("nhs_number", error.description)
        }
        return digits
    }

    @inline(__always)
    private func personID(_ digits: NHSDigits) -> [UInt8] {
        var digits = digits
        return withUnsafeBytes(of: &digits.bytes) { pseudonymiser.personID(asciiDigits: UnsafeRawBufferPointer(rebasing: $0[0..<10])) }
    }

    // MARK: Fields

    @inline(__always)
    private func code<Value>(_ field: UnsafeRawBufferPointer, _ name: String, _ table: CodeTable<Value>) throws(RowProblem) -> Value {
        if let value = table.lookup(field) { return value }
        throw RowProblem(name, field.isEmpty ? "missing" : "unknown code")
    }

    @inline(__always)
    private func empty(_ field: UnsafeRawBufferPointer, _ name: String) throws(RowProblem) {
        guard field.isEmpty else { throw RowProblem(name, "must be empty unless event_type is service") }
    }

    private func laCode(_ field: UnsafeRawBufferPointer) throws(RowProblem) -> String {
        if let code = laCodes.lookup(field) { return code }
        throw RowProblem("la_code", field.isEmpty ? "missing" : "unknown local authority")
    }

    private func year(_ field: UnsafeRawBufferPointer, _ name: String) throws(RowProblem) -> Int {
        guard !field.isEmpty else { throw RowProblem(name, "missing") }
        guard field.count == 4, let year = Self.digits(field, 0, 4) else { throw RowProblem(name, "not a four-digit year") }
        guard Self.birthYears.contains(year) else { throw RowProblem(name, "outside 1900..2008") }
        return year
    }

    @inline(__always)
    private func date(
        _ field: UnsafeRawBufferPointer, _ name: String, from earliest: CivilDate, _ tooEarly: String = "before 2000-01-01"
    ) throws(RowProblem) -> CivilDate {
        guard !field.isEmpty else { throw RowProblem(name, "missing") }
        guard field.count == 10, field[4] == UInt8(ascii: "-"), field[7] == UInt8(ascii: "-"),
            let y = Self.digits(field, 0, 4), let m = Self.digits(field, 5, 7), let d = Self.digits(field, 8, 10),
            let date = CivilDate(year: y, month: m, day: d)
        else { throw RowProblem(name, "not a valid date") }
        guard date >= earliest else { throw RowProblem(name, tooEarly) }
        guard date <= Self.latestDate else { throw RowProblem(name, "after 2030-12-31") }
        return date
    }

    @inline(__always)
    private func optionalDate(
        _ field: UnsafeRawBufferPointer, _ name: String, from earliest: CivilDate, _ tooEarly: String
    ) throws(RowProblem) -> CivilDate? {
        field.isEmpty ? nil : try date(field, name, from: earliest, tooEarly)
    }

    private func dateOfDeath(_ field: UnsafeRawBufferPointer, birthYear: Int) throws(RowProblem) -> CivilDate? {
        try optionalDate(field, "date_of_death", from: CivilDate(year: birthYear, month: 1, day: 1)!, "before the birth year")
    }

    /// An event or spell reference: 1 to 40 characters, no control characters (the field is valid UTF-8 already).
    private func reference(_ field: UnsafeRawBufferPointer, _ name: String) throws(RowProblem) -> String {
        guard !field.isEmpty else { throw RowProblem(name, "missing") }
        var characters = 0
        for byte in field {
            if byte < 0x20 || byte == 0x7F { throw RowProblem(name, "contains a control character") }
            if byte & 0xC0 != 0x80 { characters += 1 }
        }
        guard characters <= Self.maxRefCharacters else { throw RowProblem(name, "longer than 40 characters") }
        return String(decoding: field, as: UTF8.self)
    }

    /// `R` and 2 or 4 upper-case letters or digits.
    private func providerCode(_ field: UnsafeRawBufferPointer) throws(RowProblem) -> String {
        guard !field.isEmpty else { throw RowProblem("provider_code", "missing") }
        let valid =
            (field.count == 3 || field.count == 5) && field[0] == UInt8(ascii: "R")
            && field.dropFirst().allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) }
        guard valid else { throw RowProblem("provider_code", "not R and 2 or 4 upper-case letters or digits") }
        return String(decoding: field, as: UTF8.self)
    }

    /// A positive decimal with at most 2 places and at most `maxHundredths` / 100; the text is kept as written.
    private func decimal(_ field: UnsafeRawBufferPointer, _ name: String, maxHundredths: Int) throws(RowProblem) -> String {
        guard !field.isEmpty else { throw RowProblem(name, "missing on a service row") }
        let syntax = RowProblem(name, "not a decimal number with at most 2 decimal places")
        let integerEnd = field.firstIndex(of: UInt8(ascii: ".")) ?? field.count
        guard (1...6).contains(integerEnd), let whole = Self.digits(field, 0, integerEnd) else { throw syntax }
        var hundredths = whole * 100
        if integerEnd < field.count {
            let places = field.count - integerEnd - 1
            guard (1...2).contains(places), let fraction = Self.digits(field, integerEnd + 1, field.count) else { throw syntax }
            hundredths += places == 1 ? fraction * 10 : fraction
        }
        guard hundredths > 0, hundredths <= maxHundredths else { throw RowProblem(name, "outside 0 (exclusive) to \(maxHundredths / 100)") }
        return String(decoding: field, as: UTF8.self)
    }

    /// The decimal value of `field[from..<to]`, or `nil` unless all are ASCII digits.
    @inline(__always)
    private static func digits(_ field: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> Int? {
        var value = 0
        for i in from..<to {
            let d = field[i] &- UInt8(ascii: "0")
            guard d <= 9 else { return nil }
            value = value * 10 + Int(d)
        }
        return value
    }
}
