import Logging
import SDEAudit
import SDEPolicy
import SDEService
import ServiceLifecycle
import UnixSignals

/// Reloads the policy set on SIGHUP. An invalid set makes the broker serve nothing (fail closed) until a valid one is
/// loaded; every reload is audited (`policy.loaded` or `policy.rejected`).
struct PolicyReloader: Service {
    let gate: AccessGate
    let load: @Sendable () throws(PolicyError) -> PolicySet
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            await reload()
        }
    }

    /// Loads the policy directory again and swaps it in (or serves nothing while it is invalid).
    func reload() async {
        let state = await gate.policies.reload(load)
        switch state {
        case .valid(let policy): logger.notice("policy set reloaded", metadata: ["sde.policy.digest": "\(policy.digest)"])
        case .invalid: logger.error("policy set invalid after reload: serving nothing until it is fixed")
        }
        do {
            try await gate.recordUnauthorized(
                actor: AuditEventDraft.brokerActor, AuditSubject(state.isReady ? .policyLoaded : .policyRejected),
                outcome: state.isReady ? .allowed : .error, reason: state.isReady ? nil : "policy_invalid")
        } catch {
            // The server keeps running: while the trail cannot be written nothing is released anyway.
            logger.error("the policy reload could not be audited: the audit trail is unavailable")
        }
    }
}
