/// Splits a SQL script into statements, because the extended query protocol runs one statement at a time.
///
/// Understands `--` and `/* */` comments, single-quoted strings, double-quoted identifiers and dollar quoting
/// (`$$ ... $$`, `$tag$ ... $tag$`), so semicolons inside function bodies do not split them.
enum SQLScript {
    static func statements(_ script: String) -> [String] {
        let s = Array(script.utf8)
        var statements: [String] = []
        var start = 0
        var i = 0
        func flush(_ end: Int) {
            let text = String(decoding: s[start..<end], as: UTF8.self)
            if !isBlank(text) { statements.append(text.trimmingWhitespace()) }
        }
        while i < s.count {
            let c = s[i]
            if c == UInt8(ascii: "-"), i + 1 < s.count, s[i + 1] == UInt8(ascii: "-") {
                while i < s.count, s[i] != 0x0A { i += 1 }
            } else if c == UInt8(ascii: "/"), i + 1 < s.count, s[i + 1] == UInt8(ascii: "*") {
                i += 2
                while i + 1 < s.count, !(s[i] == UInt8(ascii: "*") && s[i + 1] == UInt8(ascii: "/")) { i += 1 }
                i += 2
            } else if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                i += 1
                while i < s.count {
                    if s[i] == c {
                        if i + 1 < s.count, s[i + 1] == c { i += 2; continue }
                        break
                    }
                    i += 1
                }
                i += 1
            } else if c == UInt8(ascii: "$"), let tagEnd = dollarTagEnd(s, i) {
                let tag = Array(s[i...tagEnd])
                i = tagEnd + 1
                while i < s.count, !s[i...].starts(with: tag) { i += 1 }
                i += tag.count
            } else if c == UInt8(ascii: ";") {
                flush(i)
                start = i + 1
                i += 1
            } else {
                i += 1
            }
        }
        if start < s.count { flush(s.count) }
        return statements
    }

    /// The index of the closing `$` of a dollar-quote tag starting at `i`, if one starts there.
    private static func dollarTagEnd(_ s: [UInt8], _ i: Int) -> Int? {
        var j = i + 1
        while j < s.count {
            let c = s[j]
            if c == UInt8(ascii: "$") { return j }
            let isTagChar = (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || c == UInt8(ascii: "_") || (j > i + 1 && c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
            guard isTagChar else { return nil }
            j += 1
        }
        return nil
    }

    /// True when `text` holds only whitespace and comments.
    private static func isBlank(_ text: String) -> Bool {
        text.split(separator: "\n").allSatisfy { line in
            let trimmed = line.trimmingWhitespace()
            return trimmed.isEmpty || trimmed.hasPrefix("--")
        }
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
