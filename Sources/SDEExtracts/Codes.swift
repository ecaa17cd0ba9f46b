/// Sex as recorded in the extracts: `F`, `M` or `X` (not specified / other).
public enum Sex: String, Sendable, Hashable, CaseIterable {
    case female = "F"
    case male = "M"
    case other = "X"
}

/// Ethnic group (the six broad groups used in the social care extracts).
public enum Ethnicity: String, Sendable, Hashable, CaseIterable {
    case white, mixed, asian, black, other
    case notStated = "not_stated"
}

/// The kind of a social care event, in the order a journey usually runs.
public enum CareEventType: String, Sendable, Hashable, CaseIterable {
    case request, assessment, service, review
}

/// The outcome of a social care event; which outcomes are allowed depends on the ``CareEventType``.
public enum CareOutcome: String, Sendable, Hashable, CaseIterable {
    // request
    case toAssessment = "to_assessment"
    case universalServices = "universal_services"
    case signposted
    case noServices = "no_services"
    case declined
    // assessment
    case longTermSupport = "long_term_support"
    case shortTermSupport = "short_term_support"
    case noEligibleNeeds = "no_eligible_needs"
    // service (and `ended` for reviews)
    case ongoing, ended
    // review
    case noChange = "no_change"
    case increased, decreased

    /// Whether a row of `type` may carry this outcome.
    public func isAllowed(for type: CareEventType) -> Bool {
        switch self {
        case .toAssessment, .universalServices, .signposted, .noServices, .declined: type == .request
        case .longTermSupport, .shortTermSupport, .noEligibleNeeds: type == .assessment
        case .ongoing: type == .service
        case .ended: type == .service || type == .review
        case .noChange, .increased, .decreased: type == .review
        }
    }
}

/// The kind of service a `service` event delivers.
public enum ServiceType: String, Sendable, Hashable, CaseIterable {
    case homeCare = "home_care"
    case reablement
    case residentialCare = "residential_care"
    case nursingCare = "nursing_care"
    case dayCare = "day_care"
    case directPayment = "direct_payment"
    case supportedLiving = "supported_living"
}

/// The primary support reason recorded on every social care event.
public enum SupportReason: String, Sendable, Hashable, CaseIterable {
    case physicalSupport = "physical_support"
    case sensorySupport = "sensory_support"
    case memoryCognition = "memory_cognition"
    case learningDisability = "learning_disability"
    case mentalHealth = "mental_health"
    case socialSupport = "social_support"
}

/// How a patient was admitted to hospital.
public enum AdmissionMethod: String, Sendable, Hashable, CaseIterable {
    case elective, emergency, maternity, transfer
}

/// Where a patient went when the hospital spell ended.
public enum DischargeDestination: String, Sendable, Hashable, CaseIterable {
    case usualResidence = "usual_residence"
    case careHome = "care_home"
    case nursingHome = "nursing_home"
    case otherHospital = "other_hospital"
    case died
    case other
}

/// The ICD-10 chapter of the primary diagnosis, written as its roman numeral (`I` to `XXII`).
public enum DiagnosisChapter: String, Sendable, Hashable, CaseIterable {
    case i = "I", ii = "II", iii = "III", iv = "IV", v = "V", vi = "VI", vii = "VII", viii = "VIII", ix = "IX", x = "X", xi = "XI"
    case xii = "XII", xiii = "XIII", xiv = "XIV", xv = "XV", xvi = "XVI", xvii = "XVII", xviii = "XVIII", xix = "XIX", xx = "XX"
    case xxi = "XXI", xxii = "XXII"
}
