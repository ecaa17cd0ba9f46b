import SDECommon

/// Reads one YAML mapping strictly: reports a wrong shape, unknown keys, missing required keys and values of the
/// wrong type, each at its line, into the shared ``DiagnosticLog``.
final class FieldReader {
    let file: String
    let line: Int
    let what: String
    let log: DiagnosticLog
    private let entries: [String: PolicyNode.Entry]

    /// Nil (after logging) when `node` is not a mapping; unknown keys are logged and otherwise ignored.
    init?(_ node: PolicyNode, file: String, what: String, allowed: [String], log: DiagnosticLog) {
        guard case .mapping(let list) = node.kind else {
            log.error(file, node.line, "\(what) must be a mapping of keys to values, found \(node.shapeName)")
            return nil
        }
        self.file = file
        self.line = node.line
        self.what = what
        self.log = log
        var entries: [String: PolicyNode.Entry] = [:]
        for entry in list {
            if allowed.contains(entry.key) {
                entries[entry.key] = entry
            } else {
                log.error(file, entry.keyLine, "unknown key '\(entry.key)' in \(what); allowed keys: \(allowed.joined(separator: ", "))")
            }
        }
        self.entries = entries
    }

    /// The line of `key` when present, else the mapping's line.
    func line(of key: String) -> Int { entries[key]?.keyLine ?? line }

    /// Whether `key` is present.
    func has(_ key: String) -> Bool { entries[key] != nil }

    /// The value node for `key`; a missing required key is logged.
    func node(_ key: String, required: Bool = true) -> PolicyNode? {
        if let entry = entries[key] { return entry.value }
        if required { log.error(file, line, "\(what) is missing required key '\(key)'") }
        return nil
    }

    func error(_ line: Int, _ message: String) { log.error(file, line, message) }

    // MARK: Typed values

    func string(_ key: String, required: Bool = true) -> String? {
        node(key, required: required).flatMap { text($0, key) }
    }

    /// An identifier: letters, digits, `.`, `_`, `-`, starting with a letter or digit, at most 64 characters.
    func identifier(_ key: String, required: Bool = true) -> String? {
        node(key, required: required).flatMap { identifierValue($0, key) }
    }

    /// A SQL-style name: lower-case letters, digits and `_`, starting with a letter or `_`.
    func columnName(_ key: String, required: Bool = true) -> String? {
        guard let node = node(key, required: required), let value = text(node, key) else { return nil }
        guard Identifier.isSQLName(value) else {
            error(node.line, "'\(key)' must be a column name (lower-case letters, digits and _), found '\(value)'")
            return nil
        }
        return value
    }

    func bool(_ key: String, required: Bool = true) -> Bool? {
        guard let node = node(key, required: required) else { return nil }
        guard case .scalar(_, plain: true) = node.kind, case .bool(let value) = node.json else {
            error(node.line, "'\(key)' must be true or false")
            return nil
        }
        return value
    }

    func int(_ key: String, required: Bool = true, in range: ClosedRange<Int>) -> Int? {
        guard let node = node(key, required: required) else { return nil }
        guard case .int(let value) = node.json, range.contains(Int(value)) else {
            error(node.line, "'\(key)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return Int(value)
    }

    /// A decimal or whole number in `range`.
    func number(_ key: String, required: Bool = true, in range: ClosedRange<Double>) -> Double? {
        guard let node = node(key, required: required) else { return nil }
        let value: Double?
        switch node.json {
        case .int(let i): value = Double(i)
        case .decimal(let d): value = Double(d)
        default: value = nil
        }
        guard let value, range.contains(value) else {
            error(node.line, "'\(key)' must be a number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return value
    }

    func date(_ key: String, required: Bool = true) -> CivilDate? {
        guard let node = node(key, required: required), let value = text(node, key) else { return nil }
        guard let date = CivilDate(parsing: value) else {
            error(node.line, "'\(key)' must be a real date written YYYY-MM-DD, found '\(value)'")
            return nil
        }
        return date
    }

    func quarter(_ key: String, required: Bool = true) -> Quarter? {
        guard let node = node(key, required: required), let value = text(node, key) else { return nil }
        guard let quarter = Quarter(parsing: value) else {
            error(node.line, "'\(key)' must be a quarter written YYYYQn (n = 1 to 4), found '\(value)'")
            return nil
        }
        return quarter
    }

    /// A list of nodes.
    func list(_ key: String, required: Bool = true, nonEmpty: Bool = false) -> [PolicyNode]? {
        guard let node = node(key, required: required) else { return nil }
        guard case .sequence(let items) = node.kind else {
            error(node.line, "'\(key)' must be a list, found \(node.shapeName)")
            return nil
        }
        if nonEmpty && items.isEmpty {
            error(node.line, "'\(key)' must not be empty")
            return nil
        }
        return items
    }

    /// A list of identifiers, each with its line; duplicates are logged.
    func identifierList(_ key: String, required: Bool = true, nonEmpty: Bool = false) -> [Located<String>]? {
        guard let items = list(key, required: required, nonEmpty: nonEmpty) else { return nil }
        var seen: Set<String> = []
        var result: [Located<String>] = []
        for item in items {
            guard let value = identifierValue(item, key) else { continue }
            if !seen.insert(value).inserted {
                error(item.line, "'\(value)' is listed twice in '\(key)'")
                continue
            }
            result.append(Located(value: value, line: item.line))
        }
        return result
    }

    /// A list of texts, each with its line; duplicates are logged.
    func textList(_ key: String, required: Bool = true, nonEmpty: Bool = false) -> [Located<String>]? {
        guard let items = list(key, required: required, nonEmpty: nonEmpty) else { return nil }
        var seen: Set<String> = []
        var result: [Located<String>] = []
        for item in items {
            guard let value = text(item, key) else { continue }
            if !seen.insert(value).inserted {
                error(item.line, "'\(value)' is listed twice in '\(key)'")
                continue
            }
            result.append(Located(value: value, line: item.line))
        }
        return result
    }

    /// A nested mapping read strictly.
    func mapping(_ key: String, required: Bool = true, what nestedWhat: String, allowed: [String]) -> FieldReader? {
        node(key, required: required).flatMap { FieldReader($0, file: file, what: nestedWhat, allowed: allowed, log: log) }
    }

    /// Non-empty text from a scalar; numbers and booleans are refused so that `yes`, `1.0` or `null` never become text silently.
    func text(_ node: PolicyNode, _ key: String) -> String? {
        guard case .scalar(let value, _) = node.kind, case .string = node.json else {
            let found: String
            switch node.json {
            case .null: found = "nothing"
            case .bool, .int, .decimal: found = "a number or boolean (quote it if it is text)"
            default: found = node.shapeName
            }
            error(node.line, "'\(key)' must be text, found \(found)")
            return nil
        }
        guard !value.allSatisfy(\.isWhitespace) else {
            error(node.line, "'\(key)' must not be empty")
            return nil
        }
        return value
    }

    func identifierValue(_ node: PolicyNode, _ key: String) -> String? {
        guard let value = text(node, key) else { return nil }
        guard Identifier.isName(value) else {
            error(node.line, "'\(key)' must be an identifier (letters, digits, '.', '_', '-'; at most 64), found '\(value)'")
            return nil
        }
        return value
    }
}

/// A value read from a policy file, with the line it came from.
struct Located<Value> {
    let value: Value
    let line: Int
}
