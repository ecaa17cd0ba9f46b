public import SDECommon

/// Which extract a file is, decided by its exact header row.
public enum ExtractKind: Sendable, Hashable {
    /// `social_care_<LA_CODE>.csv`: one local authority's social care events.
    case socialCare(laCode: String)
    /// `hospital_spells.csv`: hospital spells of residents of every local authority.
    case hospital

    /// The social care extract's columns, in order.
    public static let socialCareColumns = [
        "nhs_number", "birth_year", "sex", "ethnicity", "date_of_death", "la_code", "event_ref", "event_type", "event_start", "event_end",
        "outcome", "service_type", "support_reason", "planned_hours", "unit_cost",
    ]

    /// The hospital extract's columns, in order.
    public static let hospitalColumns = [
        "nhs_number", "birth_year", "sex", "la_code", "provider_code", "spell_ref", "admission_date", "discharge_date", "admission_method",
        "discharge_destination", "diagnosis_chapter",
    ]

    /// The hospital extract's file name.
    public static let hospitalFileName = "hospital_spells.csv"

    /// The file name of a local authority's social care extract.
    public static func socialCareFileName(laCode: String) -> String { "social_care_\(laCode).csv" }
}

/// One validated, pseudonymised social care event: what the store loads. The NHS number is gone; ``personID`` replaces it.
public struct CareRecord: Sendable, Hashable {
    /// The 1-based physical line of the extract where the record starts (to quarantine it if the store rejects it).
    public var lineNumber: Int
    /// HMAC-SHA256 of the NHS number: 32 bytes.
    public var personID: [UInt8]
    /// 1900 to 2008.
    public var birthYear: Int
    /// Sex as recorded.
    public var sex: Sex
    /// Ethnic group.
    public var ethnicity: Ethnicity
    /// On or after 1 January of the birth year, at latest 2030-12-31.
    public var dateOfDeath: CivilDate?
    /// The local authority of the file.
    public var laCode: String
    /// The local authority's own reference for the event: 1 to 40 characters.
    public var eventRef: String
    /// Request, assessment, service or review.
    public var eventType: CareEventType
    /// 2000-01-01 to 2030-12-31, like every event date.
    public var eventStart: CivilDate
    /// On or after ``eventStart`` when present.
    public var eventEnd: CivilDate?
    /// Allowed for ``eventType`` (see ``CareOutcome/isAllowed(for:)``).
    public var outcome: CareOutcome
    /// Present exactly on `service` rows.
    public var serviceType: ServiceType?
    /// Primary support reason.
    public var supportReason: SupportReason
    /// Hours per week as written in the file (0 < h ≤ 168, at most 2 decimal places); present exactly on `service` rows.
    public var plannedHours: String?
    /// GBP per planned hour as written in the file (0 < c ≤ 500, at most 2 decimal places); present exactly on `service` rows.
    public var unitCost: String?

    /// A record with every field given.
    public init(
        lineNumber: Int, personID: [UInt8], birthYear: Int, sex: Sex, ethnicity: Ethnicity, dateOfDeath: CivilDate?, laCode: String, eventRef: String,
        eventType: CareEventType, eventStart: CivilDate, eventEnd: CivilDate?, outcome: CareOutcome, serviceType: ServiceType?,
        supportReason: SupportReason, plannedHours: String?, unitCost: String?
    ) {
        self.lineNumber = lineNumber
        self.personID = personID
        self.birthYear = birthYear
        self.sex = sex
        self.ethnicity = ethnicity
        self.dateOfDeath = dateOfDeath
        self.laCode = laCode
        self.eventRef = eventRef
        self.eventType = eventType
        self.eventStart = eventStart
        self.eventEnd = eventEnd
        self.outcome = outcome
        self.serviceType = serviceType
        self.supportReason = supportReason
        self.plannedHours = plannedHours
        self.unitCost = unitCost
    }
}

/// One validated, pseudonymised hospital spell: what the store loads.
public struct HospitalRecord: Sendable, Hashable {
    /// The 1-based physical line of the extract where the record starts (to quarantine it if the store rejects it).
    public var lineNumber: Int
    /// HMAC-SHA256 of the NHS number: 32 bytes.
    public var personID: [UInt8]
    /// 1900 to 2008.
    public var birthYear: Int
    /// Sex as recorded.
    public var sex: Sex
    /// Local authority of residence.
    public var laCode: String
    /// `R` and 2 or 4 upper-case letters or digits (NHS trust or site).
    public var providerCode: String
    /// The provider's reference for the spell: 1 to 40 characters.
    public var spellRef: String
    /// 2000-01-01 to 2030-12-31.
    public var admissionDate: CivilDate
    /// On or after ``admissionDate``, at latest 2030-12-31.
    public var dischargeDate: CivilDate
    /// Elective, emergency, maternity or transfer.
    public var admissionMethod: AdmissionMethod
    /// Where the patient went.
    public var dischargeDestination: DischargeDestination
    /// ICD-10 chapter of the primary diagnosis.
    public var diagnosisChapter: DiagnosisChapter

    /// A record with every field given.
    public init(
        lineNumber: Int, personID: [UInt8], birthYear: Int, sex: Sex, laCode: String, providerCode: String, spellRef: String,
        admissionDate: CivilDate,
        dischargeDate: CivilDate, admissionMethod: AdmissionMethod, dischargeDestination: DischargeDestination, diagnosisChapter: DiagnosisChapter
    ) {
        self.lineNumber = lineNumber
        self.personID = personID
        self.birthYear = birthYear
        self.sex = sex
        self.laCode = laCode
        self.providerCode = providerCode
        self.spellRef = spellRef
        self.admissionDate = admissionDate
        self.dischargeDate = dischargeDate
        self.admissionMethod = admissionMethod
        self.dischargeDestination = dischargeDestination
        self.diagnosisChapter = diagnosisChapter
    }
}

/// A data record that failed validation, for the quarantine file.
///
/// ``reason`` names the field and the problem (`nhs_number: bad check digit`), never a value, so it can be logged;
/// ``rawLine`` is the record exactly as in the file (it may hold an NHS number and invalid UTF-8): write it only to
/// the quarantine file.
public struct QuarantinedRow: Sendable, Hashable {
    /// The extract's file name (no directory).
    public var fileName: String
    /// The 1-based physical line where the record starts.
    public var lineNumber: Int
    /// `field: problem` or `record: problem`.
    public var reason: String
    /// The record's bytes as in the file, without the line end.
    public var rawLine: [UInt8]

    /// A quarantined row.
    public init(fileName: String, lineNumber: Int, reason: String, rawLine: [UInt8]) {
        self.fileName = fileName
        self.lineNumber = lineNumber
        self.reason = reason
        self.rawLine = rawLine
    }
}

/// What reading one data record gives.
public enum ExtractItem: Sendable, Hashable {
    /// A valid row of a social care extract.
    case care(CareRecord)
    /// A valid row of the hospital extract.
    case hospital(HospitalRecord)
    /// A row that failed validation.
    case quarantined(QuarantinedRow)
}

/// Consecutive records of one file, split by outcome; one of ``care`` and ``hospital`` is empty (by the file's kind).
public struct ExtractBatch: Sendable, Hashable {
    /// Valid social care rows, in file order.
    public var care: [CareRecord] = []
    /// Valid hospital rows, in file order.
    public var hospital: [HospitalRecord] = []
    /// Rows that failed validation, in file order.
    public var quarantined: [QuarantinedRow] = []

    /// An empty batch.
    public init() {}

    /// Data records in the batch: loaded plus quarantined.
    public var rowsRead: Int { care.count + hospital.count + quarantined.count }
}
