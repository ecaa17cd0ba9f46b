public import SDECommon

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes synthetic extracts as data providers would send them: one social care file per local authority and one
/// hospital file, with valid NHS numbers, plausible journeys and, on request, a share of deliberately broken rows.
///
/// The output is a pure function of the arguments: the same seed gives the same bytes.
///
/// ```swift
/// let councils = try LocalAuthority.load(from: "Sql/local_authorities.csv")
/// let summary = try SyntheticExtracts.write(persons: 20_000, seed: 42, to: ".sde/extracts", badRowRate: 0.001, localAuthorities: councils)
/// print(summary.rowsWritten, summary.rowsBroken)
/// ```
public enum SyntheticExtracts {
    /// A kind of deliberately broken row, and what ``ExtractReader`` says about it.
    public enum Break: String, Sendable, Hashable, CaseIterable {
        /// The NHS number's last digit is wrong: `nhs_number: bad check digit`.
        case badCheckDigit = "bad_check_digit"
        /// The event start or admission date is a 30 February: `event_start: not a valid date` / `admission_date: ...`.
        case impossibleDate = "impossible_date"
        /// The la_code is not a local authority: `la_code: unknown local authority`.
        case unknownLACode = "unknown_la_code"
        /// One field too few or too many: `record: 14 fields, expected 15` and the like.
        case wrongColumnCount = "wrong_column_count"
        /// A 0xFF byte in the event or spell reference: `event_ref: not valid UTF-8` / `spell_ref: ...`.
        case nonUTF8 = "non_utf8"
    }

    /// What ``SyntheticExtracts/write(persons:seed:to:badRowRate:localAuthorities:)`` wrote.
    public struct Summary: Sendable, Hashable {
        /// File names written (no directory), sorted.
        public var fileNames: [String]
        /// People generated (some with care events, some with hospital spells only).
        public var persons: Int
        /// Data rows in the social care files.
        public var careRows: Int
        /// Data rows in the hospital file.
        public var hospitalRows: Int
        /// Deliberately broken rows, by kind (every kind present, possibly 0).
        public var brokenRows: [Break: Int]

        /// The number of files written.
        public var files: Int { fileNames.count }
        /// Data rows in all files (headers not counted).
        public var rowsWritten: Int { careRows + hospitalRows }
        /// Deliberately broken rows in all files: exactly these are quarantined by ``ExtractReader``.
        public var rowsBroken: Int { brokenRows.values.reduce(0, +) }
    }

    /// Generates `persons` people and writes their extracts into `directory` (created if missing; existing extract files are replaced).
    ///
    /// The extracts hold NHS numbers: every file is written mode 0600, and every directory this creates mode 0700,
    /// whatever the umask (an existing directory, which the caller chose, keeps its mode).
    ///
    /// - Parameters:
    ///   - persons: 0 to 100,000,000.
    ///   - seed: any value; the same seed gives the same bytes.
    ///   - badRowRate: share of rows to break, 0 to 1, cycling through ``Break`` kinds.
    ///   - localAuthorities: the councils to write files for (people are spread over them roughly by population).
    ///   - progress: told of every 10,000 people written.
    public static func write(
        persons: Int, seed: UInt64, to directory: String, badRowRate: Double = 0, localAuthorities: [LocalAuthority],
        progress: ProgressReporter? = nil
    ) throws(ExtractError) -> Summary {
        guard (0...100_000_000).contains(persons) else { throw .badArgument("persons must be between 0 and 100,000,000") }
        guard (0...1).contains(badRowRate) else { throw .badArgument("bad row rate must be between 0 and 1") }
        guard !localAuthorities.isEmpty else { throw .badArgument("at least one local authority is needed") }
        guard Set(localAuthorities.map(\.code)).count == localAuthorities.count, !localAuthorities.contains(where: { $0.code.contains("/") })
        else { throw .badArgument("local authority codes must be unique and must not contain '/'") }
        try makeDirectory(directory)
        let councils = localAuthorities.sorted { $0.code < $1.code }
        let model = SyntheticModel(seed: seed, localAuthorities: councils)
        let writer = try SyntheticWriter(directory: directory, localAuthorities: councils, seed: seed, badRowRate: badRowRate)
        var person = SynthPerson()
        for index in 0..<persons {
            model.make(index, into: &person)
            try writer.write(person)
            if (index + 1) % 10_000 == 0 || index + 1 == persons { progress?.advance(by: (index % 10_000) + 1) }
        }
        try writer.finish()
        var broken: [Break: Int] = [:]
        for (kind, count) in zip(Break.allCases, writer.broken) { broken[kind] = count }
        return Summary(
            fileNames: ([ExtractKind.hospitalFileName] + councils.map { ExtractKind.socialCareFileName(laCode: $0.code) }).sorted(),
            persons: persons, careRows: writer.careRows, hospitalRows: writer.hospitalRows, brokenRows: broken
        )
    }

    /// Makes extracts written before they were owner-only so: `directory` mode 0700 and each extract file in it 0600.
    /// For a directory of the broker's own (the quickstart's under `.sde/extracts`), never one a caller merely chose.
    public static func restrictPermissions(of directory: String) throws(ExtractError) {
        guard chmod(directory, 0o700) == 0 else { throw .io(directory, "set the mode of", errno: errno) }
        for path in try ExtractReader.extractFiles(in: directory) {
            guard chmod(path, 0o600) == 0 else { throw .io(path, "set the mode of", errno: errno) }
        }
    }

    /// `mkdir -p`, every directory it creates mode 0700.
    private static func makeDirectory(_ path: String) throws(ExtractError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, 0o700) == 0 {
                guard chmod(prefix, 0o700) == 0 else { throw .io(prefix, "set the mode of", errno: errno) }
            } else if errno != EEXIST {
                throw .io(prefix, "create directory", errno: errno)
            }
            prefix += "/"
        }
    }
}

/// Formats synthetic people as extract rows into buffered files, breaking a share of rows on request.
final class SyntheticWriter {
    private static let unknownLACode = Array("E06999999".utf8)

    private let careFiles: [OutputFile]
    private let hospitalFile: OutputFile
    private let laCodes: [[UInt8]]
    private let providerCodes: [[UInt8]]
    private let spacedNHSNumbers: [Bool]
    private var eventCounters: [Int]
    private var spellCounter = 0
    private var formatRng: Xoshiro256
    private var breakRng: Xoshiro256
    private let badRowRate: Double
    private var breaks = 0
    private var columnBreaks = 0
    private var row: [UInt8] = []

    private(set) var careRows = 0
    private(set) var hospitalRows = 0
    /// Broken rows per ``SyntheticExtracts/Break`` case, in `allCases` order.
    private(set) var broken = [Int](repeating: 0, count: SyntheticExtracts.Break.allCases.count)

    init(directory: String, localAuthorities: [LocalAuthority], seed: UInt64, badRowRate: Double) throws(ExtractError) {
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        var files: [OutputFile] = []
        for la in localAuthorities {
            let file = try OutputFile(path: base + ExtractKind.socialCareFileName(laCode: la.code), mode: 0o600, bufferSize: 1 << 17)
            try file.setMode(0o600)  // a replaced file keeps its old mode otherwise
            file.buffer.append(contentsOf: ExtractKind.socialCareColumns.joined(separator: ",").utf8)
            file.buffer.append(UInt8(ascii: "\n"))
            files.append(file)
        }
        careFiles = files
        hospitalFile = try OutputFile(path: base + ExtractKind.hospitalFileName, mode: 0o600, bufferSize: 1 << 20)
        try hospitalFile.setMode(0o600)
        hospitalFile.buffer.append(contentsOf: ExtractKind.hospitalColumns.joined(separator: ",").utf8)
        hospitalFile.buffer.append(UInt8(ascii: "\n"))
        laCodes = localAuthorities.map { Array($0.code.utf8) }
        // NHS trust codes: `R` and two letters or digits, distinct per local authority (a bijection of 0 ..< 1296).
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        providerCodes = localAuthorities.indices.map { i in
            let k = (i * 97 + 13) % 1296
            return [UInt8(ascii: "R"), alphabet[k / 36], alphabet[k % 36]]
        }
        var layout = Xoshiro256(seed: seed, stream: 0xFFFF_FFFF_0000_0001)
        spacedNHSNumbers = localAuthorities.map { _ in layout.chance(0.2) }
        eventCounters = [Int](repeating: 0, count: localAuthorities.count)
        formatRng = Xoshiro256(seed: seed, stream: 0xFFFF_FFFF_0000_0002)
        breakRng = Xoshiro256(seed: seed, stream: 0xFFFF_FFFF_0000_0003)
        self.badRowRate = badRowRate
        row.reserveCapacity(512)
    }

    func write(_ person: SynthPerson) throws(ExtractError) {
        // Work on a local row buffer: appends to a class property would each pay a dynamic exclusivity check.
        var row = self.row
        self.row = []
        defer { self.row = row }
        let care = careFiles[person.la]
        for event in person.events {
            let broken = nextBreak()
            eventCounters[person.la] += 1
            row.removeAll(keepingCapacity: true)
            appendNHSNumber(person.nhsNumber, to: &row, spaced: spacedNHSNumbers[person.la], broken: broken == .badCheckDigit)
            row.append(UInt8(ascii: ","))
            row.appendInt(person.birthYear)
            row.append(UInt8(ascii: ","))
            row.append(contentsOf: person.sex.rawValue.utf8)
            row.append(UInt8(ascii: ","))
            row.append(contentsOf: person.ethnicity.rawValue.utf8)
            row.append(UInt8(ascii: ","))
            if let death = person.death { row.appendDate(death) }
            row.append(UInt8(ascii: ","))
            row.append(contentsOf: broken == .unknownLACode ? Self.unknownLACode : laCodes[person.la])
            row.append(UInt8(ascii: ","))
            row.append(broken == .nonUTF8 ? 0xFF : UInt8(ascii: "E"))
            row.append(UInt8(ascii: "V"))
            row.appendInt(eventCounters[person.la], width: 9)
            row.append(UInt8(ascii: ","))
            row.append(contentsOf: event.type.rawValue.utf8)
            row.append(UInt8(ascii: ","))
            if broken == .impossibleDate { row.appendImpossibleDate(event.start) } else { row.appendDate(event.start) }
            row.append(UInt8(ascii: ","))
            if let end = event.end { row.appendDate(end) }
            row.append(UInt8(ascii: ","))
            row.append(contentsOf: event.outcome.rawValue.utf8)
            row.append(UInt8(ascii: ","))
            if let service = event.service { row.append(contentsOf: service.rawValue.utf8) }
            row.append(UInt8(ascii: ","))
            row.append(contentsOf: person.supportReason.rawValue.utf8)
            row.append(UInt8(ascii: ","))
            if event.service != nil { row.appendDecimal(event.hours, trimmed: true) }
            row.append(UInt8(ascii: ","))
            if event.service != nil { row.appendDecimal(event.cost, trimmed: false) }
            finishRow(&row, broken, lastFieldStart: row.lastIndex(of: UInt8(ascii: ","))!)
            care.buffer.append(contentsOf: row)
            try care.flushIfFull()
            careRows += 1
        }
        for spell in person.spells {
            let broken = nextBreak()
            spellCounter += 1
            row.removeAll(keepingCapacity: true)
            appendNHSNumber(person.nhsNumber, to: &row, spaced: formatRng.chance(0.1), broken: broken == .badCheckDigit)
            row.append(UInt8(ascii: ","))
            row.appendInt(person.birthYear)
            row.append(UInt8(ascii: ","))
            row.append(contentsOf: person.sex.rawValue.utf8)
            row.append(UInt8(ascii: ","))
            row.append(contentsOf: broken == .unknownLACode ? Self.unknownLACode : laCodes[person.la])
            row.append(UInt8(ascii: ","))
            row.append(contentsOf: providerCodes[spell.provider])
            if spell.site > 0 {
                row.append(UInt8(ascii: "0"))
                row.appendInt(spell.site)
            }
            row.append(UInt8(ascii: ","))
            row.append(broken == .nonUTF8 ? 0xFF : UInt8(ascii: "S"))
            row.append(UInt8(ascii: "P"))
            row.appendInt(spellCounter, width: 10)
            row.append(UInt8(ascii: ","))
            if broken == .impossibleDate { row.appendImpossibleDate(spell.admission) } else { row.appendDate(spell.admission) }
            row.append(UInt8(ascii: ","))
            row.appendDate(spell.discharge)
            row.append(UInt8(ascii: ","))
            row.append(contentsOf: spell.method.rawValue.utf8)
            row.append(UInt8(ascii: ","))
            row.append(contentsOf: spell.destination.rawValue.utf8)
            let lastFieldStart = row.count
            row.append(UInt8(ascii: ","))
            row.append(contentsOf: spell.chapter.rawValue.utf8)
            finishRow(&row, broken, lastFieldStart: lastFieldStart)
            hospitalFile.buffer.append(contentsOf: row)
            try hospitalFile.flushIfFull()
            hospitalRows += 1
        }
    }

    func finish() throws(ExtractError) {
        for file in careFiles { try file.flush() }
        try hospitalFile.flush()
    }

    /// The break to apply to the next row, if any; kinds take turns.
    private func nextBreak() -> SyntheticExtracts.Break? {
        guard badRowRate > 0, breakRng.unit() < badRowRate else { return nil }
        let index = breaks % SyntheticExtracts.Break.allCases.count
        breaks += 1
        broken[index] += 1
        return SyntheticExtracts.Break.allCases[index]
    }

    /// Ends the row: for a column-count break, drops the last field (from the comma at `lastFieldStart`) or adds one.
    private func finishRow(_ row: inout [UInt8], _ broken: SyntheticExtracts.Break?, lastFieldStart: Int) {
        if broken == .wrongColumnCount {
            columnBreaks += 1
            if columnBreaks % 2 == 1 { row.removeSubrange(lastFieldStart...) } else { row.append(contentsOf: ",1".utf8) }
        }
        row.append(UInt8(ascii: "\n"))
    }

    private func appendNHSNumber(_ number: Int, to row: inout [UInt8], spaced: Bool, broken: Bool) {
        var digits = number
        if broken { digits = digits - digits % 10 + (digits % 10 + 1 + breakRng.int(in: 0...8)) % 10 }
        if spaced {
            row.appendInt(digits / 10_000_000, width: 3)
            row.append(UInt8(ascii: " "))
            row.appendInt(digits / 10_000 % 1000, width: 3)
            row.append(UInt8(ascii: " "))
            row.appendInt(digits % 10_000, width: 4)
        } else {
            row.appendInt(digits, width: 10)
        }
    }
}

extension [UInt8] {
    /// Appends a non-negative integer in decimal, zero-padded to `width` digits.
    @inline(__always)
    mutating func appendInt(_ value: Int, width: Int = 1) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        var rest = value
        Swift.withUnsafeMutableBytes(of: &digits) { out in
            repeat {
                out[23 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0 || count < width
            append(contentsOf: UnsafeRawBufferPointer(rebasing: out[(24 - count)...]))
        }
    }

    /// Appends the day number as `YYYY-MM-DD`.
    @inline(__always)
    mutating func appendDate(_ dayNumber: Int) {
        let date = CivilDate(dayNumber: dayNumber)
        appendInt(date.year, width: 4)
        append(UInt8(ascii: "-"))
        appendInt(date.month, width: 2)
        append(UInt8(ascii: "-"))
        appendInt(date.day, width: 2)
    }

    /// Appends 30 February of the day's year: a date that does not exist.
    mutating func appendImpossibleDate(_ dayNumber: Int) {
        appendInt(CivilDate(dayNumber: dayNumber).year, width: 4)
        append(contentsOf: "-02-30".utf8)
    }

    /// Appends hundredths as a decimal: always 2 places, or (`trimmed`) without trailing zeros and point.
    mutating func appendDecimal(_ hundredths: Int, trimmed: Bool) {
        appendInt(hundredths / 100)
        let fraction = hundredths % 100
        if trimmed && fraction == 0 { return }
        append(UInt8(ascii: "."))
        if trimmed && fraction % 10 == 0 {
            appendInt(fraction / 10)
        } else {
            appendInt(fraction, width: 2)
        }
    }
}
