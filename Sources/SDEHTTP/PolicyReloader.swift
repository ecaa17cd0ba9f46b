public import Logging
import SDEAudit
public import SDEPolicy
public import SDEStore
public import ServiceLifecycle
import UnixSignals

/// Reloads the policy set on SIGHUP. An invalid set makes the broker serve nothing (fail closed) until a valid one is
/// loaded; every reload is audited (`policy.loaded` or `policy.rejected`).
public struct PolicyReloader: Service {
    let registry: PolicyRegistry
    let trail: AuditTrail
    let load: @Sendable () throws(PolicyError) -> PolicySet
    let logger: Logger

    public init(registry: PolicyRegistry, trail: AuditTrail, logger: Logger, load: @escaping @Sendable () throws(PolicyError) -> PolicySet) {
        self.registry = registry
        self.trail = trail
        self.load = load
        self.logger = logger
    }

    public func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            try await reload()
        }
    }

    /// Loads the policy directory again and swaps it in (or serves nothing while it is invalid).
    public func reload() async throws {
        let state = await registry.reload(load)
        let digest = state.policy.flatMap { AuditDigest(hex: $0.digest) }
        switch state {
        case .valid: logger.notice("policy set reloaded", metadata: ["sde.policy.digest": "\(digest?.hex ?? "")"])
        case .invalid: logger.error("policy set invalid after reload: serving nothing until it is fixed")
        }
        try await trail.record(
            AuditEventDraft(
                actor: AuditEventDraft.brokerActor, role: nil, action: state.isReady ? .policyLoaded : .policyRejected, policyDigest: digest,
                outcome: state.isReady ? .allowed : .error, reason: state.isReady ? nil : "policy_invalid"))
    }
}
