import SDECommon
import Yams

/// Limits that keep a malformed or hostile policy file from exhausting memory, time or stack.
public enum PolicyLimits {
    /// Largest accepted policy file, in bytes.
    public static let maxFileBytes = 1 << 20
    /// Deepest accepted nesting of mappings and sequences.
    public static let maxDepth = 16
    /// Most policy files accepted in one set.
    public static let maxFiles = 2000
}

/// A YAML node read from a policy file: scalars keep their text and whether they were quoted, every node its line.
///
/// Only what policy files need is accepted: no anchors, aliases or tags, string keys only, nesting at most
/// ``PolicyLimits/maxDepth`` deep.
struct PolicyNode: Sendable {
    struct Entry: Sendable {
        let key: String
        let keyLine: Int
        let value: PolicyNode
    }

    enum Kind: Sendable {
        /// A scalar: its text and whether it was plain (unquoted, not a block scalar).
        case scalar(String, plain: Bool)
        case sequence([PolicyNode])
        case mapping([Entry])
    }

    let line: Int
    let kind: Kind

    /// A short name for this node's shape, for error messages.
    var shapeName: String {
        switch kind {
        case .scalar: "a single value"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }

    /// The JSON value of this node: plain `null`/`~`/empty is null, plain `true`/`false` a boolean, plain decimal
    /// integers and decimals numbers (decimals normalised), everything else (including all quoted text) a string.
    var json: JSONValue {
        switch kind {
        case .scalar(let text, let plain): PolicyNode.scalarJSON(text, plain: plain)
        case .sequence(let items): .array(items.map(\.json))
        case .mapping(let entries): .object(Dictionary(entries.map { ($0.key, $0.value.json) }, uniquingKeysWith: { a, _ in a }))
        }
    }

    static func scalarJSON(_ text: String, plain: Bool) -> JSONValue {
        guard plain else { return .string(text) }
        switch text {
        case "", "~", "null": return .null
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: break
        }
        if let int = integer(text) { return .int(int) }
        if let decimal = decimal(text) { return .decimal(decimal) }
        return .string(text)
    }

    /// A plain decimal integer without leading zeros that fits in 64 bits.
    static func integer(_ text: String) -> Int64? {
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits == "0" || !digits.hasPrefix("0")
        else { return nil }
        return Int64(text)
    }

    /// A plain decimal `d.d` normalised (no trailing fractional zeros), or nil.
    static func decimal(_ text: String) -> String? {
        let negative = text.hasPrefix("-")
        let body = negative ? text.dropFirst() : Substring(text)
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            parts[0] == "0" || !parts[0].hasPrefix("0")
        else { return nil }
        var fraction = String(parts[1])
        while fraction.hasSuffix("0") { fraction.removeLast() }
        let magnitude = fraction.isEmpty ? String(parts[0]) : "\(parts[0]).\(fraction)"
        return negative && magnitude != "0" ? "-" + magnitude : magnitude
    }
}

/// Turns the bytes of one policy file into a ``PolicyNode``, or diagnostics saying clearly why it cannot.
enum PolicyYAML {
    /// Parses one YAML document; problems are logged against `file` and nil is returned.
    static func parse(_ bytes: [UInt8], file: String, log: DiagnosticLog) -> PolicyNode? {
        guard bytes.count <= PolicyLimits.maxFileBytes else {
            log.error(file, 1, "file is \(bytes.count) bytes; policy files may be at most \(PolicyLimits.maxFileBytes) bytes")
            return nil
        }
        guard var text = String(validating: bytes, as: UTF8.self) else {
            log.error(file, 1, "file is not UTF-8 text (binary data?)")
            return nil
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        var ok = true
        for problem in Precheck.problems(in: text) {
            log.error(file, problem.line, problem.message)
            ok = false
        }
        guard ok else { return nil }
        let root: Node?
        do {
            root = try Parser(yaml: text).singleRoot()
        } catch let error as YamlError {
            let (line, message) = describe(error)
            log.error(file, line, message)
            return nil
        } catch {
            log.error(file, 1, "cannot parse YAML: \(error)")
            return nil
        }
        guard let root else {
            log.error(file, 1, "file is empty")
            return nil
        }
        return convert(root, depth: 1, file: file, log: log)
    }

    private static func convert(_ node: Node, depth: Int, file: String, log: DiagnosticLog) -> PolicyNode? {
        let line = node.mark?.line ?? 1
        guard depth <= PolicyLimits.maxDepth else {
            log.error(file, line, "nesting is deeper than \(PolicyLimits.maxDepth) levels")
            return nil
        }
        guard node.anchor == nil else {
            log.error(file, line, "anchors and aliases (&name, *name) are not allowed in policy files")
            return nil
        }
        switch node {
        case .scalar(let scalar):
            return PolicyNode(line: line, kind: .scalar(scalar.string, plain: scalar.style == .plain))
        case .sequence(let sequence):
            var items: [PolicyNode] = []
            for item in sequence {
                guard let converted = convert(item, depth: depth + 1, file: file, log: log) else { return nil }
                items.append(converted)
            }
            return PolicyNode(line: line, kind: .sequence(items))
        case .mapping(let mapping):
            var entries: [PolicyNode.Entry] = []
            for (key, value) in mapping {
                let keyLine = key.mark?.line ?? line
                guard case .scalar(let keyScalar) = key, key.anchor == nil else {
                    log.error(file, keyLine, "mapping keys must be plain text")
                    return nil
                }
                guard let converted = convert(value, depth: depth + 1, file: file, log: log) else { return nil }
                entries.append(PolicyNode.Entry(key: keyScalar.string, keyLine: keyLine, value: converted))
            }
            return PolicyNode(line: line, kind: .mapping(entries))
        case .alias:
            log.error(file, line, "anchors and aliases (&name, *name) are not allowed in policy files")
            return nil
        }
    }

    private static func describe(_ error: YamlError) -> (Int, String) {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text) (line \($0.mark.line)): " } ?? ""
            return (mark.line, "invalid YAML: \(prefix)\(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
            return (context.mark.line, "duplicate key \(keys) in the same mapping")
        case .reader(let problem, _, _, _):
            return (1, "cannot read YAML: \(problem)")
        default:
            return (1, "invalid YAML: \(error)")
        }
    }
}

/// A fast lexical pass over a policy file that rejects what the YAML parser would handle badly or dangerously:
/// control characters, tabs in indentation, anchors, aliases and tags (which can expand exponentially), and
/// nesting deeper than ``PolicyLimits/maxDepth``.
enum Precheck {
    struct Problem: Equatable {
        let line: Int
        let message: String
    }

    static func problems(in text: String) -> [Problem] {
        var problems: [Problem] = []
        var quote: Character? = nil
        var flowDepth = 0
        var blockScalarParentIndent: Int? = nil
        var indents: [Int] = []
        for (index, scalars) in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let rawLine = String(String.UnicodeScalarView(scalars))
            let line = rawLine.hasSuffix("\r") ? Substring(rawLine.unicodeScalars.dropLast()) : Substring(rawLine)
            if let bad = line.unicodeScalars.first(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
                problems.append(Problem(line: lineNumber, message: "control character U+\(hex4(bad.value)) is not allowed"))
                return problems
            }
            let indent = line.prefix { $0 == " " }.count
            let rest = line.dropFirst(indent)
            if quote == nil, let parent = blockScalarParentIndent {
                if rest.isEmpty || rest.allSatisfy({ $0 == " " || $0 == "\t" }) || indent > parent { continue }
                blockScalarParentIndent = nil
            }
            if quote == nil, rest.first == "\t" {
                problems.append(Problem(line: lineNumber, message: "tab character in indentation; indent with spaces"))
                return problems
            }
            let isContent = quote != nil || !(rest.isEmpty || rest.first == "#")
            if quote == nil, flowDepth == 0, isContent, !rest.hasPrefix("---"), !rest.hasPrefix("...") {
                while let last = indents.last, last > indent { indents.removeLast() }
                if indents.last != indent { indents.append(indent) }
            }
            var atNodeStart = quote == nil
            var compact = 0
            var previous: Character = " "
            var characters = Array(rest)
            characters.append("\n")
            var i = 0
            while i < characters.count - 1 {
                let c = characters[i]
                let next = characters[i + 1]
                defer {
                    previous = c
                    i += 1
                }
                if let open = quote {
                    if open == "\"" && c == "\\" {
                        i += 1
                    } else if c == open {
                        if open == "'" && next == "'" { i += 1 } else { quote = nil }
                    }
                    continue
                }
                if c == "#" && (previous == " " || previous == "\t" || i == 0) { break }
                if c == " " || c == "\t" { continue }
                let indicatorFollows = next == " " || next == "\n" || next == "\t"
                if atNodeStart {
                    if c == "&" || c == "*" || c == "!" {
                        let message = "anchors, aliases and tags (&, *, !) are not allowed; quote text that starts with \(c)"
                        problems.append(Problem(line: lineNumber, message: message))
                        return problems
                    }
                    if c == "\"" || c == "'" {
                        quote = c
                        atNodeStart = false
                        continue
                    }
                    if (c == "|" || c == ">") && flowDepth == 0 {
                        blockScalarParentIndent = indent
                        atNodeStart = false
                        continue
                    }
                    if (c == "-" || c == "?") && indicatorFollows && flowDepth == 0 {
                        compact += 1
                        continue
                    }
                }
                if (c == "[" || c == "{") && (atNodeStart || flowDepth > 0) {
                    flowDepth += 1
                    atNodeStart = true
                } else if (c == "]" || c == "}") && flowDepth > 0 {
                    flowDepth -= 1
                    atNodeStart = false
                } else if c == "," && flowDepth > 0 {
                    atNodeStart = true
                } else if c == ":" && (indicatorFollows || (flowDepth > 0 && (next == "," || next == "]" || next == "}"))) {
                    atNodeStart = true
                } else {
                    atNodeStart = false
                }
                if indents.count + compact + flowDepth > PolicyLimits.maxDepth {
                    problems.append(Problem(line: lineNumber, message: "nesting is deeper than \(PolicyLimits.maxDepth) levels"))
                    return problems
                }
            }
        }
        return problems
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
