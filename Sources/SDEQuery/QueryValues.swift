public import SDECommon

/// A value bound to a `$n` placeholder of a compiled statement. The SQL text never contains values, only
/// placeholders with an explicit cast (`$1::date`, `$3::text[]`), so the store binds each as text, text array,
/// bigint or boolean and PostgreSQL converts it.
public enum QueryBind: Sendable, Hashable, CustomStringConvertible {
    /// A calendar day, bound as `YYYY-MM-DD` text and cast with `::date`.
    case date(CivilDate)
    /// One text value, cast with `::text`.
    case text(String)
    /// A list of text values for `column = ANY($n::text[])`.
    case textArray([String])
    /// A whole number, bound as bigint and cast with `::int`.
    case integer(Int)
    /// A boolean, cast with `::boolean`.
    case boolean(Bool)

    /// The SQL type the placeholder is cast to.
    public var sqlType: String {
        switch self {
        case .date: "date"
        case .text: "text"
        case .textArray: "text[]"
        case .integer: "int"
        case .boolean: "boolean"
        }
    }

    /// The value as an IG officer reads it in `query show`: `date 2024-04-01`, `text[] {E06000001, E06000002}`.
    public var description: String {
        switch self {
        case .date(let day): "date \(day)"
        case .text(let value): "text \(value)"
        case .textArray(let values): "text[] {\(values.joined(separator: ", "))}"
        case .integer(let value): "int \(value)"
        case .boolean(let value): "boolean \(value)"
        }
    }
}

/// The type of one result column, as the store decodes it.
public enum ResultType: String, Sendable, Hashable, CaseIterable {
    /// `integer` or `bigint` (the grouping bits, counts).
    case integer
    /// `double precision` (totals, means, medians).
    case double
    /// `text` (dimension values).
    case text
    /// `double precision[]` (largest per-person contributions, largest first).
    case doubleArray = "double[]"
}

/// One decoded value of a result row.
public enum ResultValue: Sendable, Hashable {
    /// SQL NULL.
    case null
    /// An `integer` or `bigint`.
    case integer(Int)
    /// A `double precision`.
    case double(Double)
    /// A `text`.
    case text(String)
    /// A `double precision[]`.
    case doubleArray([Double])
}

/// One column of a compiled statement's result.
public struct ResultColumn: Sendable, Hashable, CustomStringConvertible {
    /// The column's name in the result (`grouping`, a dimension name, or `measure.part` such as `requests.count`).
    public let name: String
    /// How the store decodes it.
    public let type: ResultType
    /// What it holds, in words, for `query show`.
    public let meaning: String

    /// `name (type): meaning`.
    public var description: String { "\(name) (\(type.rawValue)): \(meaning)" }
}
