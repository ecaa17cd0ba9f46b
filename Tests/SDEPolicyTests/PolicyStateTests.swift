import Foundation
import SDECommon
import SDEPolicy
import SDEServiceFakes
import Testing

@Suite struct PolicyStateTests {
    @Test func anInvalidSetRefusesEveryDecision() throws {
        var broken = Fixture.standard
        broken.edit("projects/p1.yaml", "start: 2026-01-01", "start: 2026-02-30")
        let state = PolicyState { () throws(PolicyError) in try PolicySet.load(try! broken.sources(), reference: Fixture.reference) }
        #expect(!state.isReady)
        #expect(state.summary.contains("projects/p1.yaml"))
        let actions: [(String, AccessAction)] = [
            ("res", Request().action), ("ig", .readAudit), ("op", .operate(.database)), ("reg", .readRelease(release: "r1")),
        ]
        for (user, action) in actions {
            let denial = state.decide(user: user, action: action, now: Fixture.today).denial
            #expect(denial?.reason == .policyInvalid)
            #expect(denial?.message.contains("projects/p1.yaml") == true)
        }
    }

    @Test func reloadPutsTheNewSetInForceEvenWhenInvalid() async throws {
        let valid = try Fixture.standard.sources()
        var suspendedFixture = Fixture.standard
        suspendedFixture.edit("projects/p1.yaml", "status: approved", "status: suspended")
        let suspended = try suspendedFixture.sources()
        let broken = valid.map { $0.path == "users.yaml" ? PolicySourceFile(path: $0.path, bytes: Array("users:\n\t- x\n".utf8)) : $0 }

        let registry = PolicyRegistry(PolicyState { () throws(PolicyError) in try PolicySet.load(valid, reference: Fixture.reference) })
        #expect(await registry.decide(user: "res", action: Request().action, now: Fixture.today).grant != nil)

        await registry.reload { () throws(PolicyError) in try PolicySet.load(broken, reference: Fixture.reference) }
        #expect(await registry.state.isReady == false)
        #expect(await registry.decide(user: "res", action: Request().action, now: Fixture.today).denial?.reason == .policyInvalid)

        let state = await registry.reload { () throws(PolicyError) in try PolicySet.load(suspended, reference: Fixture.reference) }
        #expect(state.isReady)
        #expect(state.summary.contains(state.policy!.digest))
        #expect(await registry.decide(user: "res", action: Request().action, now: Fixture.today).denial?.reason == .projectSuspended)
        #expect(await registry.generation == 3)
    }
}
