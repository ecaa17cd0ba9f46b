import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A progress line for a long command (synth, ingest, release publish, audit verify), on standard error and only when
/// it is a terminal: redrawn in place (`\r`) four times a second with what was done, the rate and, when the share done
/// is known, the time left; erased by ``finish()``. When standard error is not a terminal nothing is written.
///
/// Work on any thread reports with ``advance(by:fraction:)``, which only updates counters; a ticker task draws.
///
/// ```swift
/// let progress = ProgressReporter("ingest", unit: "rows")
/// defer { progress.finish() }
/// progress.advance(by: 20_000, fraction: 0.1)
/// ```
public final class ProgressReporter: Sendable {
    private struct State {
        var count = 0
        var total: Int?
        var fraction: Double?
        var finished = false
    }

    private let label: String
    private let unit: String
    private let started = ContinuousClock.now
    private let state: Mutex<State>
    private let ticker: Mutex<Task<Void, Never>?> = Mutex(nil)

    /// A progress line headed `label`, counting `unit` (e.g. "rows") out of `total` when known; drawn only when
    /// `terminal` (by default: when standard error is a terminal).
    public init(_ label: String, unit: String, total: Int? = nil, terminal: Bool? = nil) {
        self.label = label
        self.unit = unit
        state = Mutex(State(total: total))
        guard terminal ?? (isatty(STDERR_FILENO) == 1) else { return }
        ticker.withLock {
            $0 = Task.detached { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    self?.draw()
                }
            }
        }
    }

    /// Counts `count` more units done; `fraction` (0 to 1), when given, is the share of the whole work done, for work
    /// whose total is known in other units (an ingest's bytes).
    public func advance(by count: Int, fraction: Double? = nil) {
        state.withLock {
            $0.count += count
            if let fraction { $0.fraction = fraction }
        }
    }

    /// Sets the total, once it is known (an audit verification's, after the mirror is read).
    public func setTotal(_ total: Int) {
        state.withLock { $0.total = total }
    }

    /// Stops drawing and erases the line.
    public func finish() {
        ticker.withLock { $0?.cancel() }
        let wasDrawing = state.withLock { state in
            defer { state.finished = true }
            return !state.finished
        }
        if wasDrawing, ticker.withLock({ $0 != nil }) { Self.emit("\r\u{1B}[K") }
    }

    private func draw() {
        state.withLock { state in
            guard !state.finished else { return }
            let line = Self.line(
                label, count: state.count, unit: unit, total: state.total, fraction: state.fraction, elapsed: ContinuousClock.now - started)
            Self.emit("\r" + line + "\u{1B}[K")
        }
    }

    private static func emit(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// The text of the line: `label: count[ / total] unit, rate unit/s[, percent, time left]`, or `label: elapsed` before
    /// anything is counted.
    ///
    /// `ingest: 1,200,000 rows, 52,000 rows/s, 45%, 23 s left`
    public static func line(_ label: String, count: Int, unit: String, total: Int?, fraction: Double?, elapsed: Duration) -> String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        guard count > 0 else { return "\(label): \(duration(seconds))" }
        var parts = ["\(label): \(grouped(count))\(total.map { " / " + grouped($0) } ?? "") \(unit)"]
        if seconds >= 0.5 { parts.append("\(grouped(Int((Double(count) / seconds).rounded()))) \(unit)/s") }
        let share = fraction ?? total.flatMap { $0 > 0 ? Double(count) / Double($0) : nil }
        if let share, share > 0 {
            let done = min(share, 1)
            parts.append("\(Int((done * 100).rounded(.down)))%")
            if seconds >= 1 { parts.append("\(duration(seconds * (1 - done) / done)) left") }
        }
        return parts.joined(separator: ", ")
    }

    /// `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return value < 0 ? "-" + result : result
    }

    /// `7 s`, `3 min 20 s`, `1 h 05 min`.
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total) s" }
        if total < 3600 { return "\(total / 60) min \(total % 60) s" }
        let minutes = (total % 3600) / 60
        return "\(total / 3600) h \(minutes < 10 ? "0" : "")\(minutes) min"
    }
}
