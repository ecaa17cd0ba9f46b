import Logging
import SDEPolicy
import SDEService
import ServiceLifecycle
import UnixSignals

/// Reloads the policy set on SIGHUP through the activation: the files are checked offline (signatures, thresholds,
/// manifest digests, floors) and against the versions this broker accepted (rollback, pinning). A set refused either
/// way makes the broker serve nothing (fail closed) until a valid one is loaded; every reload is audited
/// (`policy.loaded`, `policy.pinned` or `policy.rejected`).
struct PolicyReloader: Service {
    let activation: PolicyActivation
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            await reload()
        }
    }

    /// Loads the policy directory again and swaps it in (or serves nothing while it is refused).
    func reload() async {
        switch await activation.activate(auditingEveryLoad: true) {
        case .valid(let policy):
            logger.notice(
                "policy set reloaded",
                metadata: ["sde.policy.digest": "\(policy.digest)", "sde.policy.manifest_version": "\(policy.trust.manifest.version)"])
        case .invalid(let error):
            logger.error("policy set refused after reload: serving nothing until it is fixed", metadata: ["sde.policy.error": "\(error.code)"])
        }
    }
}
