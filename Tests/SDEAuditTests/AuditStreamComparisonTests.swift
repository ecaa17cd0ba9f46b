import SDEAudit
import Testing

@Suite struct AuditStreamComparisonTests {
    let events: [AuditEvent]

    init() throws { events = try ChainFixture(count: 20).events }

    @Test func identicalCopiesAgree() {
        #expect(AuditStreamComparison.firstDifference(events, events) == nil)
        var comparison = AuditStreamComparison()
        for event in events {
            let difference = comparison.consume(left: event, right: event)
            #expect(difference == nil)
        }
        #expect(!comparison.isFinished)
        let atEnd = comparison.consume(left: nil, right: nil)
        #expect(atEnd == nil)
        #expect(comparison.isFinished)
        #expect(comparison.matched == 20)
    }

    @Test func firstDifferingEventIsNamed() {
        var mirror = events
        mirror[12] = events[12].forged(actor: "u.nobody")
        mirror[15] = events[15].forged(actor: "u.nobody")
        let difference = AuditStreamComparison.firstDifference(events, mirror)
        #expect(difference?.kind == .differentEvents)
        #expect(difference?.sequence == 13)
        #expect(difference?.position == 13)
    }

    @Test func sameHashDifferentFieldsStillDiffer() {
        var mirror = events
        mirror[3] = events[3].forged(actor: "u.nobody", keepHash: true)
        #expect(AuditStreamComparison.firstDifference(events, mirror)?.sequence == 4)
    }

    @Test func shorterCopyIsNamed() {
        let mirror = Array(events.prefix(17))
        let difference = AuditStreamComparison.firstDifference(events, mirror)
        #expect(difference?.kind == .rightShorter)
        #expect(difference?.sequence == 18)
        #expect(difference?.description == "sequence 18: right_shorter: mirror ends after 17 events; database continues with sequence 18")
        let reversed = AuditStreamComparison.firstDifference(mirror, events, leftName: "mirror", rightName: "database")
        #expect(reversed?.kind == .leftShorter)
        #expect(reversed?.position == 18)
    }

    @Test func missingEventInOneCopyIsADifferenceAtItsPosition() {
        var mirror = events
        mirror.remove(at: 7)
        let difference = AuditStreamComparison.firstDifference(events, mirror)
        #expect(difference?.kind == .differentEvents)
        #expect(difference?.sequence == 8)
        #expect(difference?.message.contains("mirror has sequence 9 here") == true)
    }

    @Test func comparisonStopsAtTheFirstDifference() {
        var comparison = AuditStreamComparison()
        let first = comparison.consume(left: events[0], right: events[1])
        let afterwards = comparison.consume(left: events[1], right: events[2])
        #expect(first != nil)
        #expect(afterwards == nil)
        #expect(comparison.difference?.sequence == 1)
    }
}
