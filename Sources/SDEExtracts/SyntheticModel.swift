import SDECommon

/// One synthetic social care event; days are day numbers (days since 1970-01-01).
struct SynthEvent {
    var type: CareEventType
    var start: Int
    var end: Int?
    var outcome: CareOutcome
    var service: ServiceType?
    /// Hundredths of an hour per week, and hundredths of a pound per hour; 0 unless a service.
    var hours = 0
    var cost = 0
    /// Generation order, to keep sorting deterministic among events of the same day.
    var order = 0
}

/// One synthetic hospital spell.
struct SynthSpell {
    var admission: Int
    var discharge: Int
    var method: AdmissionMethod
    var destination: DischargeDestination
    var chapter: DiagnosisChapter
    /// Index of the providing trust (a local authority index) and site number (0: the trust code itself).
    var provider: Int
    var site: Int
}

/// One synthetic person with their events and spells.
struct SynthPerson {
    var nhsNumber = 0
    var birthYear = 0
    var sex = Sex.female
    var ethnicity = Ethnicity.white
    var la = 0
    var supportReason = SupportReason.physicalSupport
    var death: Int?
    var events: [SynthEvent] = []
    var spells: [SynthSpell] = []
}

/// The generative model of synthetic people: who they are, where they live and what happens to them in
/// 2022-04-01 ..< 2025-04-01, with pathways request → assessment → service → reviews and hospital discharges
/// into reablement or care homes.
struct SyntheticModel {
    static let windowStart = CivilDate(year: 2022, month: 4, day: 1)!.dayNumber
    static let windowEnd = CivilDate(year: 2025, month: 3, day: 31)!.dayNumber
    /// The reference day for ages.
    static let midWindow = CivilDate(year: 2023, month: 10, day: 1)!

    let seed: UInt64
    private let laWeights: Weighted<Int>
    private let isLondon: [Bool]
    private let nhsMultiplier: Int
    private let nhsOffset: Int

    private let englandEthnicity = Weighted<Ethnicity>([.white: 82, .asian: 7, .black: 4, .mixed: 2, .other: 2, .notStated: 3])
    private let londonEthnicity = Weighted<Ethnicity>([.white: 54, .asian: 19, .black: 13, .mixed: 5, .other: 5, .notStated: 4])
    private let olderReasons = Weighted<SupportReason>([
        .physicalSupport: 56, .memoryCognition: 18, .sensorySupport: 5, .socialSupport: 8, .mentalHealth: 8, .learningDisability: 5,
    ])
    private let youngerReasons = Weighted<SupportReason>([
        .learningDisability: 36, .mentalHealth: 30, .physicalSupport: 24, .sensorySupport: 3, .socialSupport: 5, .memoryCognition: 2,
    ])
    private let requestOutcomes = Weighted<CareOutcome>([
        .toAssessment: 58, .universalServices: 9, .signposted: 14, .noServices: 12, .declined: 7,
    ])
    private let assessmentOutcomes = Weighted<CareOutcome>([.longTermSupport: 46, .shortTermSupport: 22, .noEligibleNeeds: 32])
    private let reviewOutcomes = Weighted<CareOutcome>([.noChange: 60, .increased: 18, .decreased: 10, .ended: 12])
    private let oldestServices = Weighted<ServiceType>([
        .homeCare: 46, .residentialCare: 20, .nursingCare: 13, .dayCare: 7, .directPayment: 4, .supportedLiving: 2,
    ])
    private let olderServices = Weighted<ServiceType>([
        .homeCare: 56, .residentialCare: 9, .nursingCare: 5, .dayCare: 12, .directPayment: 12, .supportedLiving: 3,
    ])
    private let youngerLDMHServices = Weighted<ServiceType>([
        .supportedLiving: 34, .directPayment: 25, .dayCare: 20, .homeCare: 15, .residentialCare: 6,
    ])
    private let youngerServices = Weighted<ServiceType>([
        .homeCare: 45, .directPayment: 34, .dayCare: 10, .supportedLiving: 6, .residentialCare: 5,
    ])
    private let admissionMethods = Weighted<AdmissionMethod>([.emergency: 62, .elective: 28, .transfer: 6, .maternity: 4])
    private let olderEmergencyDestinations = Weighted<DischargeDestination>([
        .usualResidence: 74, .careHome: 5, .nursingHome: 4, .otherHospital: 4, .died: 4, .other: 9,
    ])
    private let youngerEmergencyDestinations = Weighted<DischargeDestination>([
        .usualResidence: 88, .careHome: 1, .nursingHome: 1, .otherHospital: 3, .died: 1, .other: 6,
    ])
    private let plannedDestinations = Weighted<DischargeDestination>([.usualResidence: 960, .otherHospital: 15, .other: 23, .died: 2])
    private let chapters = Weighted<DiagnosisChapter>([
        .ix: 15, .xix: 12, .x: 12, .xviii: 12, .xi: 10, .ii: 8, .xiv: 6, .xiii: 6, .v: 3, .vi: 3, .iv: 3, .i: 3, .xxi: 3, .iii: 1,
        .vii: 1, .viii: 1, .xii: 1,
    ])

    init(seed: UInt64, localAuthorities: [LocalAuthority]) {
        self.seed = seed
        laWeights = Weighted(
            values: Array(localAuthorities.indices),
            weights: localAuthorities.map { LocalAuthorityPopulation.thousands[$0.code] ?? LocalAuthorityPopulation.defaultThousands }
        )
        isLondon = localAuthorities.map { $0.regionCode == "E12000007" }
        var mix = SplitMix64(seed: seed ^ 0x4E48_535F_4E55_4D42)
        var multiplier = Int(mix.next() % 100_000_000) | 1
        if multiplier % 5 == 0 { multiplier += 2 }
        nhsMultiplier = multiplier
        nhsOffset = Int(mix.next() % 100_000_000)
    }

    /// The NHS number of person `index` (< 10^8): unique and valid. The nine-digit prefix runs through a permutation of
    /// 400000000 ..< 500000000; a prefix whose check digit would be 10 moves to 6xxxxxxxx, whose check digit is then 1.
    func nhsNumber(_ index: Int) -> Int {
        let k = (nhsMultiplier &* index &+ nhsOffset) % 100_000_000
        if let check = NHSNumber.checkDigit(prefix: 400_000_000 + k) { return (400_000_000 + k) * 10 + check }
        return (600_000_000 + k) * 10 + NHSNumber.checkDigit(prefix: 600_000_000 + k)!
    }

    /// Fills `person` with person `index`; `person`'s arrays are reused.
    func make(_ index: Int, into person: inout SynthPerson) {
        var rng = Xoshiro256(seed: seed, stream: UInt64(index))
        person.events.removeAll(keepingCapacity: true)
        person.spells.removeAll(keepingCapacity: true)
        person.death = nil
        person.nhsNumber = nhsNumber(index)
        person.la = laWeights.sample(&rng)

        let hospitalOnly = rng.chance(0.28)
        let older = rng.chance(hospitalOnly ? 0.55 : 0.74)
        let age = older ? min(104, max(65, Int((83 + 8 * rng.normal()).rounded()))) : rng.int(in: 18...64)
        person.birthYear = Self.midWindow.year - age - (rng.chance(0.5) ? 1 : 0)
        let female = rng.chance(older ? 0.62 : 0.48)
        person.sex = rng.chance(0.003) ? .other : female ? .female : .male
        person.ethnicity = (isLondon[person.la] ? londonEthnicity : englandEthnicity).sample(&rng)
        person.supportReason = (older ? olderReasons : youngerReasons).sample(&rng)

        if hospitalOnly || rng.chance(0.40) { makeSpells(&person, older: older, age: age, rng: &rng) }
        if !hospitalOnly { makeCare(&person, older: older, age: age, rng: &rng) }
        if person.death == nil, !person.events.isEmpty || !person.spells.isEmpty {
            let risk = hospitalOnly ? (older ? 0.04 : 0.005) : older ? (age >= 85 ? 0.20 : 0.10) : 0.02
            if rng.chance(risk) {
                let first = person.events.reduce(person.spells.first?.admission ?? Int.max) { min($0, $1.start) }
                person.death = first + rng.int(in: 0...(Self.windowEnd - first))
            }
        }
        if let death = person.death { truncate(&person, at: death) }
        person.events.sort { ($0.start, $0.order) < ($1.start, $1.order) }
    }

    // MARK: Hospital

    private func makeSpells(_ person: inout SynthPerson, older: Bool, age: Int, rng: inout Xoshiro256) {
        var count = 1
        while count < 5 && rng.chance(older ? 0.4 : 0.25) { count += 1 }
        var admissions = (0..<count).map { _ in rng.int(in: Self.windowStart...Self.windowEnd) }
        admissions.sort()
        var previousDischarge = Int.min
        for var admission in admissions {
            if admission <= previousDischarge { admission = previousDischarge + 1 + rng.int(in: 0...30) }
            guard admission <= Self.windowEnd else { break }
            var method = admissionMethods.sample(&rng)
            if method == .maternity && (person.sex != .female || age >= 50) { method = .emergency }
            let stay: Int
            switch method {
            case .elective: stay = rng.chance(0.5) ? 0 : rng.int(in: 1...5)
            case .emergency: stay = min(120, Int(rng.logNormal(median: older ? 7 : 3.5, sigma: 0.9)))
            case .transfer: stay = rng.int(in: 3...30)
            case .maternity: stay = rng.int(in: 0...3)
            }
            let destination: DischargeDestination =
                switch method {
                case .emergency, .transfer: (older ? olderEmergencyDestinations : youngerEmergencyDestinations).sample(&rng)
                case .elective, .maternity: plannedDestinations.sample(&rng)
                }
            let provider = rng.chance(0.85) ? person.la : laWeights.sample(&rng)
            let spell = SynthSpell(
                admission: admission, discharge: admission + stay, method: method, destination: destination,
                chapter: method == .maternity ? .xv : chapters.sample(&rng), provider: provider, site: rng.chance(0.3) ? rng.int(in: 1...6) : 0
            )
            person.spells.append(spell)
            previousDischarge = spell.discharge
            if destination == .died {
                person.death = spell.discharge
                break
            }
        }
    }

    // MARK: Social care

    private func makeCare(_ person: inout SynthPerson, older: Bool, age: Int, rng: inout Xoshiro256) {
        var pathway = false
        if older {
            for spell in person.spells where spell.method == .emergency || spell.method == .transfer {
                let day = spell.discharge
                switch spell.destination {
                case .usualResidence where !pathway && rng.chance(0.4):
                    pathway = true
                    dischargeToReablement(day, &person, age: age, rng: &rng)
                case .careHome, .nursingHome:
                    add(&person, .request, day - rng.int(in: 0...3), day, .toAssessment)
                    add(&person, .assessment, day, day, .longTermSupport)
                    longTermService(
                        spell.destination == .careHome ? .residentialCare : .nursingCare, from: day + rng.int(in: 0...3), &person, rng: &rng)
                default:
                    break
                }
            }
        }
        var episodes = pathway ? (rng.chance(0.4) ? 1 : 0) : 1
        while episodes < 3 && rng.chance(0.18) { episodes += 1 }
        for _ in 0..<episodes { communityEpisode(&person, older: older, age: age, rng: &rng) }
    }

    /// Discharge from hospital to the usual residence with reablement starting within a week, then home care,
    /// a care home, or nothing more (the ASCOF "still at home 91 days after discharge into reablement" cohort).
    private func dischargeToReablement(_ day: Int, _ person: inout SynthPerson, age: Int, rng: inout Xoshiro256) {
        add(&person, .request, day - rng.int(in: 0...2), day, .toAssessment)
        add(&person, .assessment, day, day, .shortTermSupport)
        let start = day + rng.int(in: 0...7)
        let end = start + rng.int(in: 14...42)
        addService(&person, .reablement, start, end, rng: &rng)
        let next = rng.unit()
        if next < 0.35 {
            longTermService(.homeCare, from: end + rng.int(in: 0...7), &person, rng: &rng)
        } else if next < 0.35 + (age >= 85 ? 0.14 : 0.07) {
            longTermService(.residentialCare, from: end + rng.int(in: 7...80), &person, rng: &rng)
        }
    }

    private func communityEpisode(_ person: inout SynthPerson, older: Bool, age: Int, rng: inout Xoshiro256) {
        let request = rng.int(in: Self.windowStart...Self.windowEnd)
        let outcome = requestOutcomes.sample(&rng)
        add(&person, .request, request, request + rng.int(in: 0...2), outcome)
        guard outcome == .toAssessment, !rng.chance(0.06) else { return }
        let assessment = request + max(1, Int(rng.logNormal(median: 28, sigma: 1.0)))
        guard assessment <= Self.windowEnd else { return }
        let assessed = assessment + rng.int(in: 0...14)
        let result = assessmentOutcomes.sample(&rng)
        add(&person, .assessment, assessment, assessed, result)
        switch result {
        case .longTermSupport:
            let table =
                !older
                ? (person.supportReason == .learningDisability || person.supportReason == .mentalHealth ? youngerLDMHServices : youngerServices)
                : age >= 85 ? oldestServices : olderServices
            longTermService(table.sample(&rng), from: assessed + rng.int(in: 0...28), &person, rng: &rng)
        case .shortTermSupport:
            let start = assessed + rng.int(in: 0...21)
            let end = start + rng.int(in: 14...42)
            addService(&person, rng.chance(0.85) ? .reablement : .homeCare, start, end, rng: &rng)
            if rng.chance(0.45) { longTermService(.homeCare, from: end + rng.int(in: 0...7), &person, rng: &rng) }
        default:
            break
        }
    }

    /// A service with reviews at about 2-4 months and then yearly; a review may end it.
    private func longTermService(_ type: ServiceType, from start: Int, _ person: inout SynthPerson, rng: inout Xoshiro256) {
        guard start <= Self.windowEnd else { return }
        let median: Double =
            switch type {
            case .residentialCare, .nursingCare: 600
            case .homeCare: 400
            default: 700
            }
        var end = start + 7 + Int(rng.logNormal(median: median, sigma: 0.8))
        var review = start + rng.int(in: 56...120)
        while review <= min(end, Self.windowEnd) {
            let outcome = reviewOutcomes.sample(&rng)
            add(&person, .review, review, review + rng.int(in: 0...14), outcome)
            if outcome == .ended {
                end = review
                break
            }
            review += rng.int(in: 300...420)
        }
        addService(&person, type, start, end, rng: &rng)
    }

    private func addService(_ person: inout SynthPerson, _ type: ServiceType, _ start: Int, _ end: Int, rng: inout Xoshiro256) {
        guard start <= Self.windowEnd else { return }
        let (hours, cost) = plannedHoursAndCost(type, london: isLondon[person.la], rng: &rng)
        var event = SynthEvent(type: .service, start: start, end: end, outcome: .ended, service: type, hours: hours, cost: cost)
        if end > Self.windowEnd {
            event.end = nil
            event.outcome = .ongoing
        }
        event.order = person.events.count
        person.events.append(event)
    }

    private func add(_ person: inout SynthPerson, _ type: CareEventType, _ start: Int, _ end: Int, _ outcome: CareOutcome) {
        guard start <= Self.windowEnd else { return }
        let start = max(start, Self.windowStart)
        person.events.append(
            SynthEvent(type: type, start: start, end: end > Self.windowEnd ? nil : max(end, start), outcome: outcome, order: person.events.count)
        )
    }

    /// Hundredths of hours per week and of pounds per hour.
    private func plannedHoursAndCost(_ type: ServiceType, london: Bool, rng: inout Xoshiro256) -> (Int, Int) {
        let uplift = london ? 300 : 0
        switch type {
        case .homeCare:
            return (50 * min(80, max(4, Int(rng.logNormal(median: 11, sigma: 0.45) * 2))), rng.int(in: 2000...3200) + uplift)
        case .reablement:
            return (50 * rng.int(in: 10...30), rng.int(in: 2500...4000) + uplift)
        case .residentialCare:
            return (16_800, (rng.int(in: 80_000...130_000) + uplift * 20) / 168)
        case .nursingCare:
            return (16_800, (rng.int(in: 95_000...140_000) + uplift * 20) / 168)
        case .dayCare:
            return (600 * rng.int(in: 1...4), rng.int(in: 800...1500))
        case .directPayment:
            return (50 * rng.int(in: 10...60), rng.int(in: 1500...2200) + uplift)
        case .supportedLiving:
            return (100 * rng.int(in: 20...80), rng.int(in: 1800...2800) + uplift)
        }
    }

    /// Nothing happens after death: later events and spells go, open ones close on the day of death.
    private func truncate(_ person: inout SynthPerson, at death: Int) {
        person.events.removeAll { $0.start > death }
        for i in person.events.indices where person.events[i].end.map({ $0 > death }) ?? true {
            person.events[i].end = death
            if person.events[i].type == .service { person.events[i].outcome = .ended }
        }
        person.spells.removeAll { $0.admission > death }
        if let last = person.spells.indices.last, person.spells[last].discharge >= death {
            person.spells[last].discharge = death
            person.spells[last].destination = .died
        }
    }
}
