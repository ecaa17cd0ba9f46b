public import SDECommon

/// What a user may do. A user may hold several roles.
public enum Role: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Runs the vetted queries of projects they are a member of.
    case researcher
    /// Information governance: signs project and query approvals, reads the audit trail.
    case igOfficer = "ig_officer"
    /// Reads the releases addressed to their organisation, nothing else.
    case regulator
    /// Runs operations (database, ingest, tokens, release publication).
    case `operator`

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An organisation users belong to and releases are addressed to (e.g. `cqc`, `oflog`).
public struct Organisation: Sendable, Hashable {
    /// Stable identifier used by users and release audiences.
    public let id: String
    /// Full name.
    public let name: String
}

/// A person who may authenticate to the broker.
public struct User: Sendable, Hashable {
    /// Stable identifier (the subject of tokens and audit events).
    public let id: String
    /// Full name.
    public let name: String
    /// The ``Organisation`` id.
    public let organisation: String
    /// Roles held.
    public let roles: Set<Role>
    /// False when the account is disabled: every request is refused.
    public let active: Bool
    /// Last day the safe-researcher training is valid (required for researchers).
    public let trainingExpires: CivilDate?

    /// Creates a user (the loader builds them from `users.yaml`). An IG officer's signing key is not here: it is in the
    /// policy root (``PolicyRoot/keys``).
    public init(id: String, name: String, organisation: String, roles: Set<Role>, active: Bool, trainingExpires: CivilDate?) {
        self.id = id
        self.name = name
        self.organisation = organisation
        self.roles = roles
        self.active = active
        self.trainingExpires = trainingExpires
    }

    /// Whether the user holds `role`.
    public func has(_ role: Role) -> Bool { roles.contains(role) }
}

extension PolicyLoader {
    static let userKeys = ["id", "name", "organisation", "roles", "active", "training_expires", "public_key"]

    /// Reads `users.yaml`: `organisations:` and `users:` lists.
    static func readUsers(_ root: PolicyNode, file: String, log: DiagnosticLog) -> (organisations: [Organisation], users: [Located<User>]) {
        guard let top = FieldReader(root, file: file, what: "the users file", allowed: ["organisations", "users"], log: log) else {
            return ([], [])
        }
        var organisations: [Organisation] = []
        var organisationIDs: Set<String> = []
        for item in top.list("organisations", nonEmpty: true) ?? [] {
            guard let fields = FieldReader(item, file: file, what: "an organisation", allowed: ["id", "name"], log: log),
                let id = fields.identifier("id"), let name = fields.string("name")
            else { continue }
            guard organisationIDs.insert(id).inserted else {
                fields.error(fields.line(of: "id"), "duplicate organisation id '\(id)'")
                continue
            }
            organisations.append(Organisation(id: id, name: name))
        }
        var users: [Located<User>] = []
        var userIDs: Set<String> = []
        for item in top.list("users", nonEmpty: true) ?? [] {
            guard let fields = FieldReader(item, file: file, what: "a user", allowed: userKeys, log: log) else { continue }
            let id = fields.identifier("id")
            let name = fields.string("name")
            let organisation = fields.identifier("organisation")
            if let organisation, !organisationIDs.contains(organisation) {
                fields.error(fields.line(of: "organisation"), "unknown organisation '\(organisation)'; add it to 'organisations'")
            }
            var roles: Set<Role> = []
            for role in fields.textList("roles", nonEmpty: true) ?? [] {
                guard let parsed = Role(rawValue: role.value) else {
                    let known = Role.allCases.map(\.rawValue).joined(separator: ", ")
                    fields.error(role.line, "unknown role '\(role.value)'; roles are \(known)")
                    continue
                }
                roles.insert(parsed)
            }
            let active = fields.bool("active")
            let training = fields.date("training_expires", required: false)
            if roles.contains(.researcher) && !fields.has("training_expires") {
                fields.error(fields.line, "researcher '\(id ?? "?")' needs 'training_expires' (safe-researcher training expiry date)")
            }
            if fields.has("public_key") {
                // The keys that verify approvals come from the signed root: a key here would be one whoever writes the
                // file could substitute.
                fields.error(
                    fields.line(of: "public_key"),
                    "IG officers' public keys are in the policy root (\(PolicyRoot.directory)/<version>.yaml), not in the users file: remove "
                        + "'public_key'")
            }
            guard let id, let name, let organisation, let active else { continue }
            guard userIDs.insert(id).inserted else {
                fields.error(fields.line(of: "id"), "duplicate user id '\(id)'")
                continue
            }
            let user = User(id: id, name: name, organisation: organisation, roles: roles, active: active, trainingExpires: training)
            users.append(Located(value: user, line: fields.line))
        }
        return (organisations, users)
    }
}
