import SDECommon

/// Runs `body` with a progress line on standard error (drawn only on a terminal), erased when `body` ends.
func withProgress<Result>(
    _ label: String, unit: String = "", total: Int? = nil, _ body: (ProgressReporter) async throws -> Result
) async rethrows -> Result {
    let progress = ProgressReporter(label, unit: unit, total: total)
    defer { progress.finish() }
    return try await body(progress)
}
