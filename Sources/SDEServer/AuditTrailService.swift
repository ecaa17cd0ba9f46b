import ServiceLifecycle
import SDEStore

/// Keeps the audit trail open while the server runs and closes it on graceful shutdown, after the HTTP server has
/// stopped (services stop in reverse order), with a signed checkpoint of everything recorded since the last one.
struct AuditTrailService: Service {
    let trail: AuditTrail

    func run() async throws {
        try? await gracefulShutdown()
        await trail.close()
    }
}
