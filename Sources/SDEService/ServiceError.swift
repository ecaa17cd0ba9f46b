public import SDEAudit
public import SDEPolicy
public import SDEDisclosure
public import SDEQuery

/// Why the broker did not do what was asked: a refusal by the policy or a token check, or a failure after access was
/// granted. Either way no data left, and the outcome was audited when the trail could be written (``event``).
///
/// Branch on ``code`` (its ``Code/kind`` says what sort of outcome it is); ``message`` is safe to show: it never carries
/// SQL text, record-level values or the caller's raw input.
public struct ServiceError: Error, Sendable, CustomStringConvertible {
    /// A stable, machine-readable outcome, e.g. `not_a_member`, `query_timeout`, `disclosure_audit_failed`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case denied(DenyReason)
            case unauthenticated(TokenRejection)
            case auditUnavailable, databaseUnavailable, queryTimeout, tooManyCells, recordKeysIncomplete, queryFailed
            case disclosure(DisclosureError.Code)
            case query(QueryError.Code)
            case releaseNotPublished, tokenNotFound, invalidArgument, alreadyBootstrapped, tooManyRequests, internalError
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The policy refused the action.
        public static func denied(_ reason: DenyReason) -> Code { Code(.denied(reason)) }
        /// A missing, malformed, unknown, expired or revoked token.
        public static func unauthenticated(_ reason: TokenRejection) -> Code { Code(.unauthenticated(reason)) }
        /// The audit trail cannot be written, so nothing is released.
        public static let auditUnavailable = Code(.auditUnavailable)
        /// The database could not be reached or refused the operation.
        public static let databaseUnavailable = Code(.databaseUnavailable)
        /// The vetted query ran longer than the statement timeout.
        public static let queryTimeout = Code(.queryTimeout)
        /// The table would have more cells than the cap.
        public static let tooManyCells = Code(.tooManyCells)
        /// Some linked rows have no record key yet.
        public static let recordKeysIncomplete = Code(.recordKeysIncomplete)
        /// The statement's result did not match its compiled layout.
        public static let queryFailed = Code(.queryFailed)
        /// Disclosure control refused the table.
        public static func disclosure(_ code: DisclosureError.Code) -> Code { Code(.disclosure(code)) }
        /// The catalogue could not compile the query.
        public static func query(_ code: QueryError.Code) -> Code { Code(.query(code)) }
        /// The release (or that version of it) has not been published.
        public static let releaseNotPublished = Code(.releaseNotPublished)
        /// No unrevoked token has the id given.
        public static let tokenNotFound = Code(.tokenNotFound)
        /// A value the broker refuses before doing anything (e.g. a malformed token id).
        public static let invalidArgument = Code(.invalidArgument)
        /// A first operator token was asked for while an operator already holds a usable one.
        public static let alreadyBootstrapped = Code(.alreadyBootstrapped)
        /// A client failed authentication too often in a short time; refused for the rest of the window.
        public static let tooManyRequests = Code(.tooManyRequests)
        /// Anything unexpected; the details are in the log at debug level only.
        public static let internalError = Code(.internalError)

        /// What sort of outcome this is, for choosing an HTTP status or an exit code.
        public var kind: Kind {
            switch base {
            case .denied(let reason): .refused(reason)
            case .unauthenticated: .unauthenticated
            case .auditUnavailable, .databaseUnavailable, .recordKeysIncomplete, .queryFailed: .unavailable
            case .disclosure(let code) where code == .solverUnavailable: .unavailable
            case .queryTimeout: .timedOut
            case .tooManyCells, .disclosure, .query, .invalidArgument, .alreadyBootstrapped: .unprocessable
            case .releaseNotPublished, .tokenNotFound: .notFound
            case .tooManyRequests: .tooManyRequests
            case .internalError: .internalError
            }
        }

        /// The snake_case code: a denial's reason, or e.g. `query_timeout`, `disclosure_audit_failed`, `token_expired`.
        public var description: String {
            switch base {
            case .denied(let reason): reason.rawValue
            case .unauthenticated(let reason): "token_" + reason.rawValue
            case .auditUnavailable: "audit_unavailable"
            case .databaseUnavailable: "database_unavailable"
            case .queryTimeout: "query_timeout"
            case .tooManyCells: "too_many_cells"
            case .recordKeysIncomplete: "record_keys_incomplete"
            case .queryFailed: "query_failed"
            case .disclosure(let code): "disclosure_\(code)"
            case .query(let code): "query_\(code)"
            case .releaseNotPublished: "release_not_published"
            case .tokenNotFound: "token_not_found"
            case .invalidArgument: "invalid_argument"
            case .alreadyBootstrapped: "already_bootstrapped"
            case .tooManyRequests: "too_many_requests"
            case .internalError: "internal_error"
            }
        }
    }

    /// The sorts of outcome a ``Code`` can be.
    public enum Kind: Sendable, Hashable {
        /// The policy refused (the reason says why).
        case refused(DenyReason)
        /// No valid token.
        case unauthenticated
        /// Too many failed authentications from the caller's address; try again later.
        case tooManyRequests
        /// Nothing found to serve.
        case notFound
        /// The request cannot be answered as asked (too many cells, disclosure control refused the table).
        case unprocessable
        /// The database took too long.
        case timedOut
        /// The database or the audit trail is unavailable, or the data is not ready to be queried; try again later.
        case unavailable
        /// A fault of the broker's.
        case internalError
    }

    /// What happened, for branching.
    public let code: Code
    /// What happened and what to do about it, for people.
    public let message: String
    /// The audit event that recorded this outcome, if the trail could be written.
    public let event: AuditEvent?

    /// An outcome recorded as `event`.
    public init(_ code: Code, _ message: String, event: AuditEvent? = nil) {
        self.code = code
        self.message = message
        self.event = event
    }

    /// A policy refusal recorded as `event`.
    public init(_ denial: AccessDenial, event: AuditEvent?) {
        self.init(.denied(denial.reason), denial.message, event: event)
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }

    /// `error` as a service outcome: a ``ServiceError`` as it is, a failure a port or a pure target reports with its
    /// code, anything else as `internal_error`. This is the one place other errors become service errors.
    public init(_ error: any Error, event: AuditEvent? = nil) {
        switch error {
        case let error as ServiceError: self.init(error.code, error.message, event: event ?? error.event)
        case let error as any ServiceFailure: self.init(error.serviceCode, error.message, event: event)
        case let error as DisclosureError: self.init(.disclosure(error.code), error.message, event: event)
        case let error as QueryError: self.init(.query(error.code), error.message, event: event)
        case let error as AccessDenial: self.init(error, event: event)
        default: self.init(.internalError, "The broker could not complete this request.", event: event)
        }
    }
}

/// An error a port (the store) throws that names its service outcome: how the store's errors reach the services
/// without the services knowing the store.
public protocol ServiceFailure: Error {
    /// The outcome it means for the caller.
    var serviceCode: ServiceError.Code { get }
    /// A message safe to show.
    var message: String { get }
}
