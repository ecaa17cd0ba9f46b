/// Why the embedded PostgreSQL could not be set up, started, stopped or inspected.
///
/// Branch on ``code``; ``message`` names the program or file at fault and what to do.
public struct DevClusterError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable kind of cluster error.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case processFailed = "process_failed"
            case notRunning = "cluster_not_running"
            case postgresNotInstalled = "postgres_not_installed"
            case invalidName = "invalid_name"
            case io = "io_error"
            case packagesMissing = "packages_missing"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A helper program (initdb, pg_ctl) could not run or failed.
        public static let processFailed = Code(.processFailed)
        /// The cluster is not running.
        public static let notRunning = Code(.notRunning)
        /// PostgreSQL's server programs were not found.
        public static let postgresNotInstalled = Code(.postgresNotInstalled)
        /// A database name is not a plain SQL identifier.
        public static let invalidName = Code(.invalidName)
        /// A file of the cluster's directory could not be read or written.
        public static let io = Code(.io)
        /// Debian packages the broker needs at run time are not installed (and could not be installed).
        public static let packagesMissing = Code(.packagesMissing)

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

    static func processFailed(_ message: String) -> DevClusterError { DevClusterError(.processFailed, message) }
    static func notRunning(_ message: String) -> DevClusterError { DevClusterError(.notRunning, message) }
    static func postgresNotInstalled(_ message: String) -> DevClusterError { DevClusterError(.postgresNotInstalled, message) }
    static func invalidName(_ message: String) -> DevClusterError { DevClusterError(.invalidName, message) }
    static func io(_ message: String) -> DevClusterError { DevClusterError(.io, message) }
    static func packagesMissing(_ message: String) -> DevClusterError { DevClusterError(.packagesMissing, message) }
}
