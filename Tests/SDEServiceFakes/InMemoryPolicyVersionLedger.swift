public import SDEPolicy
public import SDEService
import Synchronization

/// The accepted policy versions in memory, with the store's rules: ``PolicyTrust/admission(after:)`` decides, an
/// accepted admission's versions are kept only when `beforeCommit` succeeds, and the ledger can be told to fail.
///
/// ```swift
/// let ledger = InMemoryPolicyVersionLedger()
/// let state = await PolicyActivation(gate: gate, ledger: ledger, load: load).activate(auditingEveryLoad: false)
/// #expect(ledger.records.map(\.kind) == [.root, .manifest])   // pinned
/// ```
public final class InMemoryPolicyVersionLedger: PolicyVersionLedger, Sendable {
    private let state = Mutex<(records: [PolicyVersionRecord], failure: PortFailure?)>(([], nil))

    /// An empty ledger: the first set admitted is pinned.
    public init() {}

    /// Every version recorded, oldest first.
    public var records: [PolicyVersionRecord] { state.withLock { $0.records } }

    /// Makes every later admission throw `failure` (`nil`: work again).
    public func failCalls(with failure: PortFailure?) {
        state.withLock { $0.failure = failure }
    }

    public func admit(_ trust: PolicyTrust, beforeCommit: (PolicyAdmission) async throws -> Void) async throws -> Result<PolicyAdmission, PolicyError>
    {
        let (history, failure) = state.withLock { ($0.records, $0.failure) }
        if let failure { throw failure }
        let admission = trust.admission(after: history)
        if case .success(let admitted) = admission {
            try await beforeCommit(admitted)
            state.withLock { $0.records += admitted.recorded }
        }
        return admission
    }
}
