/// One of the English councils with adult social care duties, as listed in `Sql/local_authorities.csv`.
///
/// ```swift
/// let councils = try LocalAuthority.load(from: "Sql/local_authorities.csv")   // 153 entries
/// let codes = Set(councils.map(\.code))
/// ```
public struct LocalAuthority: Sendable, Hashable {
    /// ONS code, e.g. `E06000001`.
    public let code: String
    /// ONS name, e.g. `Hartlepool`.
    public let name: String
    /// ONS region code, e.g. `E12000001`.
    public let regionCode: String
    /// ONS region name, e.g. `North East`.
    public let regionName: String

    /// A local authority.
    public init(code: String, name: String, regionCode: String, regionName: String) {
        self.code = code
        self.name = name
        self.regionCode = regionCode
        self.regionName = regionName
    }

    /// The header of the reference file.
    public static let header = ["la_code", "la_name", "region_code", "region_name"]

    /// Reads the reference CSV (`la_code,la_name,region_code,region_name`), in file order.
    public static func load(from path: String) throws(ExtractError) -> [LocalAuthority] {
        guard let bytes = try InputFile.contents(of: path, limit: 1 << 22) else {
            throw .badLocalAuthorities(baseName(path), line: 0, "larger than 4 MiB")
        }
        return try parse(csv: bytes, fileName: baseName(path))
    }

    /// Parses the reference CSV held in memory; `fileName` is used in error messages.
    public static func parse(csv bytes: [UInt8], fileName: String) throws(ExtractError) -> [LocalAuthority] {
        let scanner = CSVScanner(bytes: bytes, fileName: fileName)
        guard let first = try scanner.nextRecord() else { throw .badLocalAuthorities(fileName, line: 1, "empty file, expected a header row") }
        guard first.problem == nil, (0..<first.fieldCount).map({ String(decoding: first.field($0), as: UTF8.self) }) == header else {
            throw .badLocalAuthorities(fileName, line: first.line, "header must be \(header.joined(separator: ","))")
        }
        var result: [LocalAuthority] = []
        var seen: Set<String> = []
        while let record = try scanner.nextRecord() {
            let line = record.line
            if let problem = record.problem { throw .badLocalAuthorities(fileName, line: line, problem) }
            guard record.fieldCount == 4 else {
                throw .badLocalAuthorities(fileName, line: line, "\(record.fieldCount) fields, expected 4")
            }
            var fields: [String] = []
            for i in 0..<4 {
                guard let text = String(validating: record.field(i), as: UTF8.self), !text.isEmpty else {
                    throw .badLocalAuthorities(fileName, line: line, "\(header[i]): empty or not valid UTF-8")
                }
                fields.append(text)
            }
            guard isONSCode(fields[0]), isONSCode(fields[2]) else {
                throw .badLocalAuthorities(fileName, line: line, "la_code and region_code must be a letter and 8 digits")
            }
            guard seen.insert(fields[0]).inserted else { throw .badLocalAuthorities(fileName, line: line, "duplicate la_code \(fields[0])") }
            result.append(LocalAuthority(code: fields[0], name: fields[1], regionCode: fields[2], regionName: fields[3]))
        }
        guard !result.isEmpty else { throw .badLocalAuthorities(fileName, line: 2, "no local authorities") }
        return result
    }

    private static func isONSCode(_ text: String) -> Bool {
        let b = Array(text.utf8)
        return b.count == 9 && (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b[0])
            && b[1...].allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}
