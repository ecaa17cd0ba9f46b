/// A file-level failure while reading or writing extracts, keys or the local authority list.
///
/// Messages name files, lines and what is wrong, never a value from a record or a key:
///
/// ```swift
/// do { _ = try PseudonymisationKey.read(from: "sde.key") } catch where error.code == .badKeyFile {
///     print(error)   // key file: not a 64-hex-digit key
/// }
/// ```
public struct ExtractError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; compare with the static members (new codes may be added).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case io, notRegularFile, alreadyExists, badKeyFile, unknownHeader, badFileName, recordTooLong, badLocalAuthorities, badArgument
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A file or directory could not be opened, read or written.
        public static let io = Code(.io)
        /// A file to read is not a regular file (a FIFO, a device, a socket, a directory), so it is not read.
        public static let notRegularFile = Code(.notRegularFile)
        /// A file that must not be overwritten (a key file) already exists.
        public static let alreadyExists = Code(.alreadyExists)
        /// A key file does not hold exactly 64 lower-case hex digits.
        public static let badKeyFile = Code(.badKeyFile)
        /// An extract is empty, or its header row is neither the social care nor the hospital header.
        public static let unknownHeader = Code(.unknownHeader)
        /// A social care extract is not named `social_care_<LA_CODE>.csv` with a known code.
        public static let badFileName = Code(.badFileName)
        /// One record is larger than the reader's limit (usually an unterminated quote).
        public static let recordTooLong = Code(.recordTooLong)
        /// The local authority reference file is malformed.
        public static let badLocalAuthorities = Code(.badLocalAuthorities)
        /// An argument is out of its domain (for example a negative number of persons).
        public static let badArgument = Code(.badArgument)

        /// The code's name.
        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public let code: Code
    /// A human-readable message that names the file and the problem, never record content.
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }

    static func io(_ path: String, _ what: String, errno: Int32) -> ExtractError {
        ExtractError(.io, "\(path): cannot \(what) (\(systemErrorMessage(errno)))")
    }

    static func notRegularFile(_ path: String) -> ExtractError {
        ExtractError(.notRegularFile, "\(path):1: not a regular file (a FIFO, device, socket or directory): only regular files are read")
    }

    static func alreadyExists(_ path: String) -> ExtractError {
        ExtractError(.alreadyExists, "\(path): already exists; refusing to overwrite it")
    }

    static let badKeyFile = ExtractError(.badKeyFile, "key file: not a 64-hex-digit key")

    static func unknownHeader(_ fileName: String) -> ExtractError {
        ExtractError(.unknownHeader, "\(fileName): the header row is neither the social care nor the hospital extract header")
    }

    static func emptyFile(_ fileName: String) -> ExtractError {
        ExtractError(.unknownHeader, "\(fileName): empty file, expected a header row")
    }

    static func badFileName(_ fileName: String) -> ExtractError {
        ExtractError(.badFileName, "\(fileName): a social care extract must be named social_care_<LA_CODE>.csv with a known local authority code")
    }

    static func recordTooLong(_ fileName: String, line: Int, limit: Int) -> ExtractError {
        ExtractError(.recordTooLong, "\(fileName):\(line): record longer than \(limit) bytes (unterminated quoted field?)")
    }

    static func badLocalAuthorities(_ fileName: String, line: Int, _ problem: String) -> ExtractError {
        ExtractError(.badLocalAuthorities, "\(fileName):\(line): \(problem)")
    }

    static func badArgument(_ problem: String) -> ExtractError {
        ExtractError(.badArgument, problem)
    }
}
