import SDECommon
import Testing

/// The progress line's text, without a terminal.
@Suite struct ProgressReporterTests {
    @Test(arguments: [
        (0, nil as Int?, nil as Double?, 3.0, "ingest: 3 s"),
        (1_200_000, nil, 0.45, 20.0, "ingest: 1,200,000 rows, 60,000 rows/s, 45%, 24 s left"),
        (250_000, 1_000_000, nil, 10.0, "ingest: 250,000 / 1,000,000 rows, 25,000 rows/s, 25%, 30 s left"),
        (1_000, nil, nil, 0.2, "ingest: 1,000 rows"),
        (5, 10, nil, 600.0, "ingest: 5 / 10 rows, 0 rows/s, 50%, 10 min 0 s left"),
        (999, nil, 0.001, 4.0, "ingest: 999 rows, 250 rows/s, 0%, 1 h 06 min left"),
    ])
    func theLineSaysWhatIsDoneTheRateAndTheTimeLeft(count: Int, total: Int?, fraction: Double?, seconds: Double, expected: String) {
        let line = ProgressReporter.line("ingest", count: count, unit: "rows", total: total, fraction: fraction, elapsed: .seconds(seconds))
        #expect(line == expected)
    }

    @Test func offATerminalItDrawsNothingAndFinishesQuietly() async throws {
        let progress = ProgressReporter("synth", unit: "persons", total: 10, terminal: false)
        progress.advance(by: 5)
        try await Task.sleep(for: .milliseconds(300))
        progress.finish()
        progress.finish()
    }
}
