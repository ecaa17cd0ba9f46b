import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SDEAudit
import SDEConsole
import SDEConsoleTestSupport
import SDEPolicy
import SDEService
import SDEServiceFakes
import Testing

/// The console's pages over fakes: what each role sees, the protected table with its suppressed cells marked, the
/// downloads (the API's bytes), escaping, the console's own 404 and its security headers.
@Suite struct ConsolePageTests {
    static let window = ["from": "2024Q1", "to": "2024Q2"]

    @Test func aResearcherSeesTheirProjectsAndWhetherEachIsUsableToday() async throws {
        try await Console.test { client, fake in
            var visitor = Visitor(client)
            try await visitor.signIn(try await fake.token(for: "res"))
            let home = try await visitor.get("/console")
            #expect(home.text.contains(#"<a href="/console/projects/p1">p1</a>"#) && home.text.contains("Waits study"))
            #expect(home.text.contains(#"<span class="ok">Yes</span>"#))
            #expect(home.text.components(separatedBy: "<h1>").count == 2, "one h1")
            #expect(home.text.contains(##"<a class="skip" href="#main">"##))
            #expect(try await visitor.get("/console/").text == home.text, "with or without the trailing slash")
        }
    }

    @Test func aProjectsQueriesHaveFormsBuiltFromTheirParameterSchemas() async throws {
        try await Console.test { client, fake in
            var visitor = Visitor(client)
            try await visitor.signIn(try await fake.token(for: "res"))
            let page = try await visitor.get("/console/projects/p1")
            #expect(page.status == .ok)
            let text = page.text
            // Quarters from the data window within the dataset's coverage; the allowed values of an enumeration.
            #expect(text.contains(#"<label for="q1-from">from (required)</label>"#) && text.contains(#"<select id="q1-from" name="from""#))
            #expect(text.contains(#"<option value="2023Q1">2023Q1</option>"#) && text.contains(#"<option value="2024Q4">2024Q4</option>"#))
            #expect(!text.contains(#"<option value="2022Q4">"#) && !text.contains(#"<option value="2025Q1">"#))
            #expect(text.contains(#"<label for="q1-reason">reason</label>"#) && text.contains(#"<option value="" selected>any</option>"#))
            #expect(text.contains(#"<option value="memory_cognition">memory_cognition</option>"#))
            #expect(text.contains(#"action="/console/projects/p1/queries/q1/runs""#))
            #expect(fake.trail.events.last?.action == .projectRead && fake.trail.events.last?.outcome == .allowed)
        }
    }

    @Test func runningAQueryShowsTheProtectedTableWithSuppressedCellsMarkedNeverBlankOrZero() async throws {
        try await Console.test { client, fake in
            var visitor = Visitor(client)
            try await visitor.signIn(try await fake.token(for: "res"))
            _ = try await visitor.get("/console/projects/p1")
            let page = try await visitor.post(
                "/console/projects/p1/queries/q1/runs", Self.window.merging(["reason": "", "format": "html"]) { a, _ in a })
            #expect(page.status == .ok)
            let text = page.text
            let marked =
                #"<td class="num suppressed" data-status="suppressed"><span aria-hidden="true">[c]</span><span class="visually-hidden">suppressed</span></td>"#
            #expect(text.contains(marked))
            #expect(!text.contains(#"<td class="num" data-status="suppressed">"#))
            #expect(text.firstMatch(of: /<td[^>]*><\/td>/) == nil, "no blank cell")
            #expect(text.contains("Cells: 12 released, 0 perturbed, 0 rounded, 12 suppressed."))
            #expect(text.contains("<th scope=\"row\" class=\"total\">Total</th>"))
            let event = try #require(fake.trail.events.last)
            #expect(event.action == .queryRun && event.outcome == .allowed && event.parameters == Self.window, "the empty select is not a parameter")
            #expect(text.contains("released under audit event \(event.sequence)"))
        }
    }

    @Test func theDownloadsAreTheAPIsBytes() async throws {
        try await Console.test { client, fake in
            fake.store.setStatistics(of: "q1", FakeStatistics.uniform(persons: 40))
            let token = try await fake.token(for: "res")
            var visitor = Visitor(client)
            try await visitor.signIn(token)
            _ = try await visitor.get("/console/projects/p1")
            let csv = try await visitor.post("/console/projects/p1/queries/q1/runs", Self.window.merging(["format": "csv"]) { a, _ in a })
            #expect(csv.headers[.contentDisposition]?.hasPrefix(#"attachment; filename="q1-"#) == true)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let json = try await visitor.post("/console/projects/p1/queries/q1/runs", Self.window.merging(["format": "json"]) { a, _ in a })
            let body = try JSONSerialization.data(withJSONObject: ["parameters": Self.window])
            var headers = HTTPFields()
            headers[.authorization] = "Bearer " + token
            let api = try await client.execute(
                uri: "/v1/projects/p1/queries/q1/runs?format=csv", method: .post, headers: headers, body: ByteBuffer(bytes: body))
            #expect(api.status == .ok && csv.body == api.body, "the same CSV bytes")
            let apiJSON = try await client.execute(
                uri: "/v1/projects/p1/queries/q1/runs", method: .post, headers: headers, body: ByteBuffer(bytes: body))
            let withoutAudit = { (text: String) in text.replacing(#/^\{"audit":\{[^}]*\},/#, with: "") }
            #expect(
                json.text.hasPrefix(#"{"audit":{"#) && withoutAudit(json.text) == withoutAudit(apiJSON.text), "the same JSON but for its audit event")
        }
    }

    @Test func markupInAPolicyTextIsShownAsText() async throws {
        var fixture = PolicyFixture.standard
        let replaced = fixture.replace("projects/p1.yaml", "title: Waits study", #"title: "<script>alert('x')</script> & <b>waits</b>""#)
        #expect(replaced)
        let fake = try FakeBroker(policy: .valid(fixture.load()))
        try await Console.test(fake) { client, fake in
            var visitor = Visitor(client)
            try await visitor.signIn(try await fake.token(for: "res"))
            for path in ["/console", "/console/projects/p1"] {
                let text = try await visitor.get(path).text
                #expect(text.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;waits&lt;/b&gt;"), "\(path)")
                #expect(!text.contains("<script") && !text.contains("<b>"), "\(path)")
            }
        }
    }

    @Test func anIGOfficerFiltersTheAuditTrailAndExportsItAsCSV() async throws {
        try await Console.test { client, fake in
            var researcher = Visitor(client)
            try await researcher.signIn(try await fake.token(for: "res"))
            _ = try await researcher.get("/console/projects/p1")
            var officer = Visitor(client)
            try await officer.signIn(try await fake.token(for: "ig"))
            let page = try await officer.get("/console/audit?actor=res&action=project.read&outcome=allowed&since=2020-01-01&project=")
            #expect(page.status == .ok)
            #expect(page.text.contains("<td>project.read</td>") && !page.text.contains("<td>identity.read</td>"))
            #expect(page.text.contains(#"<input id="filter-actor" name="actor" value="res""#))
            #expect(page.text.contains(#"href="/console/audit.csv?action=project.read&amp;actor=res&amp;outcome=allowed&amp;since=2020-01-01""#))
            let csv = try await officer.get("/console/audit.csv?actor=res&action=project.read")
            #expect(csv.status == .ok && csv.headers[.contentDisposition]?.hasPrefix("attachment") == true)
            let lines = csv.text.split(separator: "\r\n")
            #expect(lines.first == Substring(AuditExporter.csvColumns.joined(separator: ",")) && lines.count == 2)
            let bad = try await officer.get("/console/audit?outcome=maybe")
            #expect(bad.status == .unprocessableContent && bad.text.contains("outcome must be one of"))
            #expect(fake.trail.events.last?.action == .auditRead && fake.trail.events.last?.reason == "parameter_invalid", "audited")
            let projects = try await officer.get("/console/projects")
            #expect(projects.status == .ok && projects.text.contains("<th scope=\"row\">p1</th>") && projects.text.contains("Waits study"))
            #expect(fake.trail.events.last?.action == .projectList && fake.trail.events.last?.actor == "ig")
            let refused = try await researcher.get("/console/projects")
            #expect(refused.status == .forbidden && fake.trail.events.last?.action == .projectList && fake.trail.events.last?.outcome == .denied)
        }
    }

    @Test func aRegulatorSeesEveryVersionItsDigestAChartAndTheCSV() async throws {
        try await Console.test { client, fake in
            fake.store.setStatistics(of: "q1", FakeStatistics.uniform(persons: 40))
            for _ in 0..<2 { _ = try await fake.broker.publisher.publish(fake.caller("op"), release: "r1") }
            let latest = try #require(try await fake.releases.latest(id: "r1"))
            var visitor = Visitor(client)
            try await visitor.signIn(try await fake.token(for: "reg"))
            let list = try await visitor.get("/console/releases")
            #expect(list.text.contains(#"<a href="/console/releases/r1">r1</a>"#) && list.text.contains(latest.sha256))
            let page = try await visitor.get("/console/releases/r1")
            #expect(page.status == .ok && page.text.contains(latest.sha256))
            #expect(
                page.text.contains(#"<strong aria-current="page">Version 2</strong>"#)
                    && page.text.contains(#"<a href="/console/releases/r1?version=1">Version 1</a>"#))
            #expect(page.text.contains(#"<svg role="img" aria-labelledby="chart-title chart-desc""#) && page.text.contains(#"<rect x="220""#))
            #expect(page.text.contains("<title id=\"chart-title\">persons by la_code in 2024Q4</title>"))
            let first = try await visitor.get("/console/releases/r1?version=1")
            #expect(first.text.contains(try #require(try await fake.releases.version(1, of: "r1")).sha256))
            let csv = try await visitor.get("/console/releases/r1/csv?version=2")
            #expect(csv.status == .ok && Array(csv.body.readableBytesView) == latest.csv)
            #expect(fake.trail.events.last?.action == .releaseRead && fake.trail.events.last?.parameters == ["version": "2"])
            let other = try await visitor.get("/console/releases/nope")
            #expect(other.status == .notFound && fake.trail.events.last?.reason == "unknown_release")
        }
    }

    @Test func unknownConsolePagesGetTheConsolesOwn404WithNoDetail() async throws {
        try await Console.test { client, fake in
            var visitor = Visitor(client)
            for path in ["/console/nothing", "/console/projects/p1/nothing/here", "/console/%3Cscript%3E"] {
                let reply = try await visitor.get(path)
                #expect(reply.status == .notFound && reply.headers[.contentType] == "text/html; charset=utf-8", "\(path)")
                #expect(reply.text.contains("There is no such page.") && !reply.text.contains("script%") && !reply.text.contains("<script"))
            }
            let post = try await visitor.post("/console/audit", ["x": "y"])
            #expect(post.status == .notFound && post.text.contains("There is no such page."), "a method the page does not take")
            try await visitor.signIn(try await fake.token(for: "res"))
            #expect(try await visitor.get("/console/nothing").text.contains("Signed in as"), "a signed-in user keeps the navigation")
            #expect(try await visitor.get("/v1/nothing").headers[.contentType] == "application/json; charset=utf-8", "the API keeps its own")
        }
    }

    @Test func everyConsoleResponseCarriesTheSecurityHeaders() async throws {
        try await Console.test { client, fake in
            var visitor = Visitor(client)
            var replies = [try await visitor.get("/console/sign-in"), try await visitor.get("/console/nothing"), try await visitor.get("/console")]
            try await visitor.signIn(try await fake.token(for: "res"))
            replies += [
                try await visitor.get("/console"), try await visitor.get("/console/static/console.css"),
                try await visitor.post("/console/sign-out", csrf: false),
            ]
            for reply in replies {
                #expect(
                    reply.headers[HTTPField.Name("Content-Security-Policy")!]
                        == "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
                #expect(reply.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                #expect(reply.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                #expect(reply.headers[.cacheControl] == "no-store")
            }
            #expect(!replies.contains { $0.text.contains("<script") || $0.text.contains(" style=") }, "no script, no inline style")
        }
    }
}
