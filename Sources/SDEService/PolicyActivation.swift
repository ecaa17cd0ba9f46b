import SDEAudit
public import SDEPolicy

/// The signed policy versions a broker accepted (`broker.policy_version` in the store): the port behind rollback
/// protection and pinning.
public protocol PolicyVersionLedger: Sendable {
    /// Checks `trust` against the versions accepted before (``PolicyTrust/admission(after:)``) and records what it adds,
    /// atomically: two brokers on one database cannot both accept different sets under one version. `beforeCommit`
    /// runs with an accepted admission before its versions are committed (the activation audits them there); when it
    /// throws, nothing is recorded and its error is thrown.
    ///
    /// - Returns: the admission, or the ``PolicyError`` (``PolicyError/Code/rollback``) that refuses the set.
    /// - Throws: when the versions cannot be read or written, or `beforeCommit`'s error.
    func admit(_ trust: PolicyTrust, beforeCommit: (PolicyAdmission) async throws -> Void) async throws -> Result<PolicyAdmission, PolicyError>
}

/// Puts a policy set in force: loads it (signatures, thresholds, manifest digests and floors are checked offline by the
/// loader), checks it against the versions this broker accepted before (rollback protection and pinning), installs it
/// in the gate's registry, and audits the outcome. `serve` runs it at start and on every SIGHUP, the command line once
/// per command.
///
/// Audited as `policy.pinned` (the first root this broker accepts, with its manifest), `policy.loaded` (a new root or
/// manifest version; and every reload), or `policy.rejected` (a refused set, with the reason `policy_rollback`,
/// `policy_unchecked` or `policy_invalid`), with the root and manifest versions and digests as parameters. A new
/// version is recorded only together with its audit event: if the trail cannot be written, the set is still put in
/// force (nothing is released without the trail anyway) and the next activation records and audits it. If the ledger
/// cannot be read, a set other than the one in force is refused (`policy_unchecked`); the one in force, read again, stays.
///
/// ```swift
/// let activation = PolicyActivation(gate: gate, ledger: store, load: load, directory: "Policies")
/// let state = await activation.activate(auditingEveryLoad: false)
/// guard state.isReady else { throw ... }   // state.summary names the file and line
/// ```
public struct PolicyActivation: Sendable {
    /// The gate whose registry receives the set and whose trail records the outcome.
    public let gate: AccessGate
    /// The versions accepted before.
    public let ledger: any PolicyVersionLedger
    /// Loads the policy set (files read afresh on every call).
    public let load: @Sendable () throws(PolicyError) -> PolicySet
    /// The policy directory, to name files in refusals (`Policies/manifest.yaml:4: ...`).
    public let directory: String?

    /// An activation of `load`'s sets into `gate`, checked against `ledger`.
    public init(
        gate: AccessGate, ledger: any PolicyVersionLedger, load: @escaping @Sendable () throws(PolicyError) -> PolicySet, directory: String? = nil
    ) {
        self.gate = gate
        self.ledger = ledger
        self.load = load
        self.directory = directory
    }

    /// Loads, checks and installs the set, and audits it; returns the state now in force (invalid, serving nothing,
    /// when the files are invalid, the set rolls back what was accepted, or the versions could not be checked).
    ///
    /// With `auditingEveryLoad` false (at start and per command), only a pin, a new version or a refusal by the ledger
    /// is audited; with it (a reload), every outcome is.
    @discardableResult
    public func activate(auditingEveryLoad: Bool) async -> PolicyState {
        var state = PolicyState(loading: load)
        var audited = false
        var refusedByLedger = false
        if let policy = state.policy {
            var auditFailed = false
            do {
                let result = try await ledger.admit(policy.trust) { admission in
                    guard !admission.recorded.isEmpty else { return }
                    do {
                        try await record(.valid(policy), admission: admission)
                        audited = true
                    } catch {
                        auditFailed = true
                        throw error
                    }
                }
                if case .failure(let error) = result {
                    state = .invalid(directory.map { error.locating(in: $0) } ?? error)
                    refusedByLedger = true
                }
            } catch  where !auditFailed {
                // The set in force was admitted when it was put in force: the same signed set read again moves nothing,
                // so a database that does not answer keeps it (a reload during an outage). Any other set is refused.
                if await gate.policies.state.policy?.trust != policy.trust {
                    state = .invalid(.unchecked("the database did not answer (\(ServiceError(error).code))"))
                    refusedByLedger = true
                }
            } catch {
                // The set extends what was accepted, but its new versions could not be audited: they are not recorded,
                // and the next activation records and audits them.
            }
        }
        let installed = state
        await gate.policies.reload { () throws(PolicyError) in
            switch installed {
            case .valid(let policy): return policy
            case .invalid(let error): throw error
            }
        }
        if !audited && (auditingEveryLoad || refusedByLedger) {
            // Nothing is released while the trail cannot be written anyway; the caller sees the state.
            try? await record(state, admission: nil)
        }
        return state
    }

    /// Records the activation's event: `policy.pinned` or `policy.loaded` for a valid set, `policy.rejected` otherwise.
    private func record(_ state: PolicyState, admission: PolicyAdmission?) async throws {
        switch state {
        case .valid(let policy):
            try await gate.recordPolicyEvent(
                AuditSubject(admission?.pinned == true ? .policyPinned : .policyLoaded), outcome: .allowed, reason: nil,
                parameters: Self.parameters(policy.trust, admission: admission), policyDigest: policy.digest)
        case .invalid(let error):
            let reason = error.code == .invalidPolicy ? DenyReason.policyInvalid.rawValue : error.code.description
            try await gate.recordPolicyEvent(AuditSubject(.policyRejected), outcome: .error, reason: reason, policyDigest: nil)
        }
    }

    /// The audit parameters of an accepted set: root and manifest versions and digests, and what this load recorded.
    static func parameters(_ trust: PolicyTrust, admission: PolicyAdmission?) -> [String: String] {
        var parameters = [
            "root_version": "\(trust.root.version)", "root_digest": trust.root.digest, "manifest_version": "\(trust.manifest.version)",
            "manifest_digest": trust.manifest.digest,
        ]
        let signers = trust.manifestSigners.joined(separator: ",")
        if signers.utf8.count <= 256 { parameters["manifest_signers"] = signers }
        if let recorded = admission?.recorded, !recorded.isEmpty {
            parameters["accepted"] = recorded.map { "\($0.kind.rawValue) \($0.version)" }.joined(separator: ",")
        }
        return parameters
    }
}
