public import SDECommon

/// The policy in force: a valid set, or the errors that made the last load fail.
///
/// When invalid, every decision is refused with ``DenyReason/policyInvalid``: a broken reload never leaves an older
/// set (and, say, a project since suspended) silently in force.
public enum PolicyState: Sendable {
    /// A valid set is in force.
    case valid(PolicySet)
    /// The last load failed; nothing is served until a valid set is loaded.
    case invalid(PolicyError)

    /// The state after a load attempt.
    public init(loading load: () throws(PolicyError) -> PolicySet) {
        do {
            self = .valid(try load())
        } catch {
            self = .invalid(error)
        }
    }

    /// The set in force, if valid.
    public var policy: PolicySet? {
        if case .valid(let policy) = self { return policy }
        return nil
    }

    /// Whether data may be served (for readiness checks).
    public var isReady: Bool { policy != nil }

    /// One line for readiness checks and logs: the digest in force, or why nothing is served.
    public var summary: String {
        switch self {
        case .valid(let policy): "policy valid, digest \(policy.digest)"
        case .invalid(let error):
            "policy invalid, serving no data: " + ([error.message] + error.diagnostics.prefix(3).map(\.description)).joined(separator: "; ")
        }
    }

    /// ``PolicySet/decide(user:action:now:)`` on the set in force, or a `policy_invalid` refusal.
    public func decide(user: String, action: AccessAction, now: CivilDate) -> AccessDecision {
        switch self {
        case .valid(let policy):
            return policy.decide(user: user, action: action, now: now)
        case .invalid(let error):
            let first = error.diagnostics.first.map { " First problem: \($0)." } ?? ""
            return .deny(
                AccessDenial(
                    .policyInvalid,
                    "The broker's policy files are invalid, so no data is served until they are fixed (\(error.message)).\(first)"))
        }
    }
}

/// Holds the policy in force for a running broker and swaps it on reload (e.g. on SIGHUP).
///
/// ```swift
/// let registry = PolicyRegistry(PolicyState { () throws(PolicyError) in try PolicyDirectory.load(at: "Policies", reference: codes) })
/// // on SIGHUP:
/// let state = await registry.reload { () throws(PolicyError) in try PolicyDirectory.load(at: "Policies", reference: codes) }
/// logger.info("\(state.summary)")
/// ```
public actor PolicyRegistry {
    /// The policy in force.
    public private(set) var state: PolicyState
    /// How many loads have been attempted (1 after ``init(_:)``).
    public private(set) var generation: Int

    /// Starts with `initial` (valid or not).
    public init(_ initial: PolicyState) {
        self.state = initial
        self.generation = 1
    }

    /// Loads a new set and puts it in force, valid or not: an invalid result replaces the old set so nothing is served.
    @discardableResult
    public func reload(_ load: () throws(PolicyError) -> PolicySet) -> PolicyState {
        state = PolicyState(loading: load)
        generation += 1
        return state
    }

    /// Decides under the policy in force (see ``PolicyState/decide(user:action:now:)``).
    public func decide(user: String, action: AccessAction, now: CivilDate) -> AccessDecision {
        state.decide(user: user, action: action, now: now)
    }
}
