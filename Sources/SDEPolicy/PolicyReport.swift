public import SDECommon

extension PolicySet {
    /// A human-readable summary for `policy check`: counts, each project's and query's approval and whether it is open on
    /// `now`, warnings, and the digest.
    public func summary(now: CivilDate) -> String {
        var lines: [String] = []
        let roleCounts = Role.allCases.map { role in "\(role.rawValue) \(users.values.filter { $0.has(role) }.count)" }
        lines.append("organisations: \(organisations.count)")
        lines.append("users: \(users.count) (\(roleCounts.joined(separator: ", ")); \(users.values.filter { !$0.active }.count) inactive)")
        lines.append("datasets: \(datasets.count), disclosure profiles: \(profiles.count), releases: \(releases.count)")
        lines.append("projects: \(projects.count) (\(projects.values.filter { $0.refusal(now: now) == nil }.count) open on \(now))")
        for project in projects.values.sorted(by: { $0.id < $1.id }) {
            let state = project.refusal(now: now)?.reason.rawValue ?? "open"
            lines.append("  \(project.id) [\(project.status.rawValue), \(project.approvalStatus)] \(state): \(project.title)")
        }
        lines.append("vetted queries: \(queries.count) (\(queries.values.filter { $0.approvalStatus.isApproved }.count) approved)")
        for query in queries.values.sorted(by: { $0.id < $1.id }) {
            lines.append("  \(query.id) [\(query.approvalStatus)]")
        }
        if !warnings.isEmpty {
            lines.append("warnings: \(warnings.count)")
            lines.append(contentsOf: warnings.map { "  \($0)" })
        }
        lines.append("signed: \(trust.summary)")
        lines.append("root digest: \(trust.root.digest) (what a broker pins), manifest digest: \(trust.manifest.digest)")
        lines.append("digest: \(digest)")
        return lines.joined(separator: "\n")
    }
}
