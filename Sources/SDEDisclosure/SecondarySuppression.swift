/// Secondary suppression for one measure: a classical relation-by-relation heuristic, then the attacker audit, then
/// repairs until the audit passes.
///
/// Heuristic (equations only, repeated until nothing changes, so every hierarchy level is handled): in a relation with
/// exactly one suppressed cell (unless the released cells' own uncertainty, such as perturbation noise, already gives
/// it the width it needs), or whose suppressed children (under a released margin) add up to less than the width they
/// need, suppress one more released cell of the relation: the smallest child that covers the deficit, else the
/// largest child, else the margin. Inequalities (person counts over non-partitioning dimensions) leave wide intervals
/// in general and are left to the audit.
///
/// Repair: for each cell the audit finds too narrow, suppress the released cell chosen the same way among the cells
/// sharing a relation with it (widening the search one relation at a time when they are all suppressed already).
struct SecondarySuppression {
    /// Audit-and-repair rounds before the table is refused.
    static let maximumRounds = 40

    let structure: TableStructure
    let components: [AdditiveComponent]

    /// Extends `suppressed` (one flag per row) until the audit passes; returns the passing audit, or `nil` when the
    /// rounds run out or no released cell is left to suppress (the table must then be refused).
    func protect(_ suppressed: inout [Bool]) throws(DisclosureError) -> [AuditedCell]? {
        for _ in 0..<Self.maximumRounds {
            applyHeuristic(&suppressed)
            var audited: [AuditedCell] = []
            for component in components { audited += try component.audit(structure: structure, suppressed: suppressed) }
            let failures = audited.filter { !$0.isProtected }
            if failures.isEmpty { return audited }
            var repaired = false
            for failure in failures {
                let component = components.first { $0.component == failure.component }!
                if let partner = repairPartner(for: failure, component, suppressed) {
                    suppressed[partner] = true
                    repaired = true
                }
            }
            guard repaired else { break }
        }
        return nil
    }

    /// The relation-by-relation heuristic, to a fixed point.
    func applyHeuristic(_ suppressed: inout [Bool]) {
        var changed = true
        while changed {
            changed = false
            for component in components {
                for relation in structure.relations where component.isEquation(relation) {
                    var count = suppressed[relation.parent] ? 1 : 0
                    var need = suppressed[relation.parent] ? component.requiredWidth[relation.parent] : 0
                    var childSum = 0.0
                    for child in relation.children where suppressed[child] {
                        count += 1
                        childSum += component.values[child]
                        need = max(need, component.requiredWidth[child])
                    }
                    guard count > 0 else { continue }
                    let slack = component.uncertainty(of: relation, suppressed)
                    let deficit = suppressed[relation.parent] ? 0 : max(0, need - childSum - slack)
                    guard (count == 1 && slack < need) || deficit > 0 else { continue }
                    let released = relation.children.filter { !suppressed[$0] }
                    let candidates = released.isEmpty && !suppressed[relation.parent] ? [relation.parent] : released
                    if let partner = Self.choose(from: candidates, values: component.values, deficit: deficit) {
                        suppressed[partner] = true
                        changed = true
                    }
                }
            }
        }
    }

    /// A released cell near `failure`'s cell to suppress next.
    private func repairPartner(for failure: AuditedCell, _ component: AdditiveComponent, _ suppressed: [Bool]) -> Int? {
        var frontier = [failure.position.row]
        var seen: Set<Int> = Set(frontier)
        let deficit = max(0, failure.requiredWidth - failure.width)
        while !frontier.isEmpty {
            var next: [Int] = []
            for row in frontier {
                for r in structure.relationsOfRow[row] {
                    let relation = structure.relations[r]
                    for cell in [relation.parent] + relation.children where seen.insert(cell).inserted { next.append(cell) }
                }
            }
            let released = next.filter { !suppressed[$0] }
            if let partner = Self.choose(from: released, values: component.values, deficit: deficit) { return partner }
            frontier = next
        }
        return nil
    }

    /// The smallest positive candidate of at least `deficit`, else the largest; ties go to the lowest row.
    static func choose(from candidates: [Int], values: [Double], deficit: Double) -> Int? {
        let covering = candidates.filter { values[$0] > 0 && values[$0] >= deficit }
        if let best = covering.min(by: { (values[$0], $0) < (values[$1], $1) }) { return best }
        return candidates.max { (values[$0], $1) < (values[$1], $0) }
    }
}
