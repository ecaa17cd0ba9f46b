import SDECommon

/// Which events an IG review wants: by project, actor, action, outcome and time window. Empty criteria match everything.
///
/// ```swift
/// let filter = AuditFilter(project: "P2026-003", since: AuditTimestamp(parsing: "2026-11-01"))
/// let picked = events.filter(filter.matches)
/// ```
public struct AuditFilter: Sendable, Hashable {
    /// Only events of this project.
    public var project: String?
    /// Only events by this actor.
    public var actor: String?
    /// Only events of this action (`query.denied`, `auth.failed`, ...).
    public var action: AuditAction?
    /// Only events with this outcome.
    public var outcome: AuditOutcome?
    /// Only events at or after this time (inclusive).
    public var since: AuditTimestamp?
    /// Only events before this time (exclusive).
    public var until: AuditTimestamp?

    /// A filter; `nil` criteria are not applied.
    public init(
        project: String? = nil, actor: String? = nil, action: AuditAction? = nil, outcome: AuditOutcome? = nil, since: AuditTimestamp? = nil,
        until: AuditTimestamp? = nil
    ) {
        self.project = project
        self.actor = actor
        self.action = action
        self.outcome = outcome
        self.since = since
        self.until = until
    }

    /// Whether `event` meets every criterion that is set.
    public func matches(_ event: AuditEvent) -> Bool {
        if let project, event.project != project { return false }
        if let actor, event.actor != actor { return false }
        if let action, event.action != action { return false }
        if let outcome, event.outcome != outcome { return false }
        if let since, event.time < since { return false }
        if let until, event.time >= until { return false }
        return true
    }
}

/// Output formats for ``AuditExporter``.
public enum AuditExportFormat: String, Sendable, Hashable, CaseIterable {
    /// A JSON array of events, one canonical event object (as in the JSONL mirror) per line.
    case json
    /// RFC 4180 CSV with a header row and CRLF line ends; see ``AuditExporter/csvColumns``.
    case csv
}

/// Renders events for review, incrementally (``header``, ``row(_:)`` per event, ``footer``) so that an export
/// of a long trail can be streamed, or in one go with ``render(_:format:filter:)``.
///
/// ```swift
/// let csv = AuditExporter.render(events, format: .csv, filter: AuditFilter(actor: "u.khan"))
/// ```
public struct AuditExporter: Sendable {
    /// The format written.
    public let format: AuditExportFormat
    private var rows = 0

    /// The CSV columns, in order. Parameters, suppressed-cell counts and checkpoints are canonical JSON objects;
    /// absent values are empty fields. Every field goes through ``CSVField/text(_:)``: an id or reason a caller typed
    /// that would start a spreadsheet formula (`=`, `+`, `-`, `@`, ...) is exported behind an apostrophe.
    public static let csvColumns = [
        "sequence", "time", "actor", "role", "project", "action", "target", "parameters", "policy_digest", "outcome", "reason",
        "cells_released", "cells_suppressed", "output_sha256", "checkpoint", "prev_hash", "hash",
    ]

    /// An exporter that has written nothing yet.
    public init(format: AuditExportFormat) { self.format = format }

    /// Text that starts the export: the CSV header row or `[`.
    public var header: String {
        switch format {
        case .json: "["
        case .csv: AuditExporter.csvColumns.joined(separator: ",") + "\r\n"
        }
    }

    /// Text for one more event.
    public mutating func row(_ event: AuditEvent) -> String {
        rows += 1
        switch format {
        case .json:
            return (rows == 1 ? "\n" : ",\n") + String(decoding: AuditJSONL.encode(event), as: UTF8.self)
        case .csv:
            let fields: [String] = [
                String(event.sequence), event.time.description, event.actor, event.role ?? "", event.project ?? "", event.action.rawValue,
                event.target ?? "", JSONValue.object(event.parameters.mapValues { .string($0) }).canonicalString,
                event.policyDigest?.hex ?? "", event.outcome.rawValue, event.reason ?? "", String(event.cells.released),
                JSONValue.object(event.cells.suppressed.mapValues { .int(Int64($0)) }).canonicalString, event.outputDigest?.hex ?? "",
                event.checkpoint?.jsonValue.canonicalString ?? "",
                event.prevHash.hex, event.hash.hex,
            ]
            return fields.map(CSVField.text).joined(separator: ",") + "\r\n"
        }
    }

    /// Text that ends the export.
    public var footer: String {
        switch format {
        case .json: rows == 0 ? "]\n" : "\n]\n"
        case .csv: ""
        }
    }

    /// The whole export of the events that match `filter`.
    public static func render(_ events: some Sequence<AuditEvent>, format: AuditExportFormat, filter: AuditFilter = AuditFilter()) -> String {
        var exporter = AuditExporter(format: format)
        var out = exporter.header
        for event in events where filter.matches(event) { out += exporter.row(event) }
        return out + exporter.footer
    }
}
