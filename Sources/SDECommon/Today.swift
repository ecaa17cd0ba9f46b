import Foundation

extension CivilDate {
    /// Today in UTC, the day every decision, expiry and audit date is taken on.
    @Sendable public static func utcToday() -> CivilDate {
        CivilDate(dayNumber: Int((Date().timeIntervalSince1970 / 86_400).rounded(.down)))
    }
}
