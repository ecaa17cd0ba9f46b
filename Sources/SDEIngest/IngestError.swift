/// Why an ingest refused to start or stopped; the database is left as it was (each file loads in one transaction).
///
/// Branch on ``code``; ``message`` names the file or key at fault, never a row's values.
public struct IngestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable kind of ingest error.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case refused = "ingest_refused"
            case io = "io_error"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The extracts or keys were refused before anything was loaded (no files, a wrong key, a bad header).
        public static let refused = Code(.refused)
        /// An extract or quarantine file could not be read or written.
        public static let io = Code(.io)

        /// The snake_case name of the code.
        public var description: String { base.rawValue }
    }

    /// What went wrong, for branching.
    public let code: Code
    /// What went wrong, for people.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }

    static func refused(_ message: String) -> IngestError { IngestError(.refused, message) }
    static func io(_ message: String) -> IngestError { IngestError(.io, message) }
}
