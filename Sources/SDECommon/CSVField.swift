/// One writer of RFC 4180 fields for every CSV the broker produces (audit exports, protected tables), so that no text
/// field is ever read by a spreadsheet as a formula.
///
/// A text field that starts with `=`, `+`, `-`, `@`, a tab or a carriage return (or their full-width forms, which some
/// spreadsheets also accept) is prefixed with an apostrophe, as OWASP recommends against CSV injection; the text
/// itself survives after it. A field is quoted, with quotes doubled, when it holds a comma, quote, CR or LF.
///
/// ```swift
/// CSVField.text("=WEBSERVICE(\"http://x\")")  // "\"'=WEBSERVICE(\"\"http://x\"\")\""
/// CSVField.text("North East")                  // "North East"
/// CSVField.number("-1.5")                      // "-1.5": numbers the broker formats itself are left alone
/// ```
public enum CSVField {
    /// The first characters that make a spreadsheet evaluate a cell.
    public static let formulaTriggers: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r", "\u{FF1D}", "\u{FF0B}", "\u{FF0D}", "\u{FF20}"]

    /// A text field: neutralised when it would start a formula, then quoted when needed.
    public static func text(_ value: String) -> String {
        guard let first = value.unicodeScalars.first, formulaTriggers.contains(first) else { return quoted(value) }
        return quoted("'" + value)
    }

    /// A number the broker formatted itself (a count, a rate, a sequence): quoted when needed, never prefixed, so a
    /// negative value stays a number.
    public static func number(_ value: String) -> String { quoted(value) }

    /// `value`, quoted with quotes doubled when it holds a comma, quote, CR or LF.
    static func quoted(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) else { return value }
        return "\"" + value.replacing("\"", with: "\"\"") + "\""
    }
}
