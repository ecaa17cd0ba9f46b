import Foundation
public import SDEAudit
public import SDECommon
public import SDEDisclosure
import SDEPolicy

/// The protected table in the one shape researchers' tools rely on (DESIGN section 9), as canonical JSON or CSV.
///
/// A `null` dimension value is a total over that dimension; a suppressed cell has `"value": null`, never 0, and says
/// nothing else about itself: every suppressed cell carries the same generic marker (`"status": "suppressed"`, as the
/// ONS "c"), because naming the rule states a value (`threshold` says 1 to k-1 persons, `zero` says 0, `differencing`
/// says an earlier release differs by 1 to k-1). The audit event keeps the rule of every cell for the IG team.
/// The audit reference is attached after the release is committed: the event's `output_sha256` covers the document
/// exactly as rendered here without its `audit` member (canonical JSON), so anyone can recompute it.
public struct ProtectedTableDocument: Sendable {
    /// The vetted query's id.
    public let query: String
    /// The project it ran under; `nil` for a regulator release.
    public let project: String?
    /// The regulator release and version it is, or `nil` for a researcher's run.
    public let release: (id: String, version: Int)?
    /// The checked parameter values, as given.
    public let parameters: [String: String]
    /// The disclosure profile applied.
    public let profile: String
    /// The protected table.
    public let table: ProtectedTable

    /// A document for `table`.
    public init(query: String, project: String, parameters: [String: String], profile: String, table: ProtectedTable) {
        self.query = query
        self.project = project
        self.release = nil
        self.parameters = parameters
        self.profile = profile
        self.table = table
    }

    /// The document of version `version` of regulator release `release`: `"project": null` and a `release` member.
    public init(release: String, version: Int, query: String, parameters: [String: String], profile: String, table: ProtectedTable) {
        self.query = query
        self.project = nil
        self.release = (release, version)
        self.parameters = parameters
        self.profile = profile
        self.table = table
    }

    /// The JSON document, with the audit reference when given.
    public func json(audit: AuditHead? = nil) -> JSONValue {
        var members: [String: JSONValue] = [
            "query": .string(query), "project": project.map(JSONValue.string) ?? .null,
            "parameters": .object(parameters.mapValues { .string($0) }),
            "dimensions": .array(table.dimensions.map { .string($0.name) }),
            "measures": .array(table.measures.map { .string($0.name) }),
            "rows": .array(table.rows.map(row)),
            "disclosure": disclosure,
        ]
        if let release { members["release"] = .object(["id": .string(release.id), "version": .int(Int64(release.version))]) }
        if let audit { members["audit"] = Self.auditMember(audit) }
        return .object(members)
    }

    /// `json`, the canonical bytes of `json()`, with the audit reference added: exactly `json(audit:).canonicalBytes`
    /// without encoding the table again (canonical JSON sorts `audit` before every other member).
    public static func canonicalBytes(_ json: [UInt8], audit: AuditHead) -> [UInt8] {
        precondition(json.first == UInt8(ascii: "{") && json.count > 2, "a document's canonical JSON is a non-empty object")
        var bytes = Array(#"{"audit":"#.utf8)
        bytes.reserveCapacity(json.count + 120)
        bytes += auditMember(audit).canonicalBytes
        bytes.append(UInt8(ascii: ","))
        bytes += json.dropFirst()
        return bytes
    }

    private static func auditMember(_ audit: AuditHead) -> JSONValue {
        .object(["sequence": .int(audit.sequence), "hash": .string(audit.hash.hex)])
    }

    /// CSV: one column per dimension (empty = total), then per measure a value column and a status column
    /// (`released`, `perturbed`, `rounded` or `suppressed`; a suppressed value is empty, never 0). Labels are written
    /// through ``CSVField/text(_:)``, so none is ever read by a spreadsheet as a formula.
    public var csv: String {
        var header = table.dimensions.map(\.name)
        for measure in table.measures { header += [measure.name, measure.name + "_status"] }
        var lines = [header.map(CSVField.text).joined(separator: ",")]
        for row in table.rows {
            var fields = row.dimensions.map { CSVField.text($0 ?? "") }
            for cell in row.cells {
                fields.append(CSVField.number(cell.value.map(Self.text) ?? ""))
                fields.append(CSVField.text(cell.status.rawValue))
            }
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A plain-text table for a terminal: totals shown as `(total)`, suppressed cells as `x`, then the summary.
    public var text: String {
        var header = table.dimensions.map(\.name) + table.measures.map(\.name)
        var rows: [[String]] = table.rows.map { row in
            row.dimensions.map { $0 ?? "(total)" }
                + row.cells.map { cell in cell.value.map(Self.text) ?? "x" }
        }
        rows.insert(header, at: 0)
        header = []
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        let dimensionCount = table.dimensions.count
        var lines = rows.map { row in
            row.enumerated().map { column, text in
                let pad = String(repeating: " ", count: widths[column] - text.count)
                return column < dimensionCount ? text + pad : pad + text
            }.joined(separator: "  ")
        }
        lines.insert(String(repeating: "-", count: lines[0].count), at: 1)
        let summary = table.summary
        let method = table.rules.perturbation.map { "cell-key perturbation, at most ±\($0.maxNoise)" } ?? "rounding base \(table.rules.roundingBase)"
        lines.append("")
        lines.append(
            "disclosure (\(profile): threshold \(table.rules.threshold), \(method)): \(summary.released) released, "
                + "\(summary.perturbed) perturbed, \(summary.rounded) rounded, \(summary.suppressedTotal) suppressed (x)")
        return lines.joined(separator: "\n")
    }

    /// Cells released and suppressed by rule, as the audit event records them.
    public var cellCounts: AuditCellCounts {
        AuditCellCounts(
            released: table.summary.released + table.summary.perturbed + table.summary.rounded,
            suppressed: Dictionary(uniqueKeysWithValues: table.summary.suppressed.map { ($0.key.rawValue, $0.value) }))
    }

    /// The profile and method, and the cells by status (suppressed cells as one count: by rule would label them).
    private var disclosure: JSONValue {
        let rules = table.rules
        let summary = table.summary
        var members: [String: JSONValue] = [
            "profile": .string(profile), "threshold": .int(Int64(rules.threshold)),
            "cells": .object([
                "released": .int(Int64(summary.released)), "perturbed": .int(Int64(summary.perturbed)),
                "rounded": .int(Int64(summary.rounded)), "suppressed": .int(Int64(summary.suppressedTotal)),
            ]),
        ]
        if let perturbation = rules.perturbation {
            members["method"] = .string("cell_key")
            members["max_noise"] = .int(Int64(perturbation.maxNoise))
        } else {
            members["method"] = .string("rounding")
            members["rounding_base"] = .int(Int64(rules.roundingBase))
        }
        return .object(members)
    }

    private func row(_ row: ProtectedRow) -> JSONValue {
        var dimensions: [String: JSONValue] = [:]
        for (dimension, value) in zip(table.dimensions, row.dimensions) { dimensions[dimension.name] = value.map(JSONValue.string) ?? .null }
        var cells: [String: JSONValue] = [:]
        for (measure, cell) in zip(table.measures, row.cells) {
            cells[measure.name] = .object(["value": cell.value.map(Self.json) ?? .null, "status": .string(cell.status.rawValue)])
        }
        return .object(["dimensions": .object(dimensions), "cells": .object(cells)])
    }

    private static func json(_ value: CellValue) -> JSONValue {
        switch value {
        case .integer(let n): .int(Int64(n))
        case .real: .decimal(text(value))
        }
    }

    /// Reals with four decimals (rates, means, medians); integers as they are.
    private static func text(_ value: CellValue) -> String {
        switch value {
        case .integer(let n): String(n)
        case .real(let x): String(format: "%.4f", x)
        }
    }
}
