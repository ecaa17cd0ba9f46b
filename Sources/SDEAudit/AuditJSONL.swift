import SDECommon

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The JSONL form of the chain: one event per line, exactly its canonical JSON including `hash`.
///
/// The decoder accepts only canonical lines: keys in byte order, no whitespace, minimal string escapes, integers
/// without leading zeros, lower-case hex digests, every key present. After parsing it re-encodes the event and
/// requires the same bytes, so any reformatting of the mirror (an extra space, reordered keys, a different escape)
/// is reported as a malformed line rather than silently accepted.
///
/// ```swift
/// let line = AuditJSONL.encode(event)             // no trailing newline
/// let back = try AuditJSONL.decode(line)          // == event
/// ```
public enum AuditJSONL {
    /// The canonical line for `event`, without the trailing newline.
    public static func encode(_ event: AuditEvent) -> [UInt8] {
        var encoder = AuditEncoder()
        encoder.encode(event, includingHash: true)
        return encoder.encoded
    }

    /// Appends the canonical line for `event` and a newline to `out`, ready to append to a mirror file.
    public static func append(_ event: AuditEvent, to out: inout [UInt8]) {
        var encoder = AuditEncoder()
        encoder.encode(event, includingHash: true)
        encoder.withEncoded { out.append(contentsOf: $0) }
        out.append(0x0A)
    }

    /// Decodes one line (without its newline); throws ``AuditError/Code/malformedLine`` unless it is canonical.
    public static func decode<Bytes: Collection>(_ line: Bytes) throws(AuditError) -> AuditEvent where Bytes.Element == UInt8 {
        var encoder = AuditEncoder()
        return try decode(line, encoder: &encoder).event
    }

    /// Decodes one line given as text.
    public static func decode(_ line: String) throws(AuditError) -> AuditEvent {
        try decode(line.utf8)
    }

    /// Decodes `line` and returns the event with its recomputed hash, reusing `encoder`'s buffer.
    static func decode<Bytes: Collection>(
        _ line: Bytes, encoder: inout AuditEncoder
    ) throws(AuditError) -> (event: AuditEvent, computedHash: AuditDigest) where Bytes.Element == UInt8 {
        let result: Result<(AuditEvent, AuditDigest), AuditError>? = line.withContiguousStorageIfAvailable { bytes in
            Result { () throws(AuditError) in try decode(bytes, encoder: &encoder) }
        }
        if let result { return try result.get() }
        let copy = Array(line)
        return try copy.withUnsafeBufferPointer { (bytes) throws(AuditError) in try decode(bytes, encoder: &encoder) }
    }

    private static func decode(
        _ bytes: UnsafeBufferPointer<UInt8>, encoder: inout AuditEncoder
    ) throws(AuditError) -> (event: AuditEvent, computedHash: AuditDigest) {
        var p = LineParser(bytes: bytes)
        try p.literal("{\"action\":")
        let action = AuditAction(rawValue: try p.string())
        try p.literal(",\"actor\":")
        let actor = try p.string()
        try p.literal(",\"cells_released\":")
        let released = try p.integer()
        try p.literal(",\"cells_suppressed\":")
        let suppressed = try p.object { (p) throws(AuditError) in Int(try p.integer()) }
        try p.literal(",\"checkpoint\":")
        let checkpoint = try p.nullable { (p) throws(AuditError) in try p.checkpoint() }
        let hashStart = p.i
        try p.literal(",\"hash\":")
        let hash = try p.digest()
        let hashEnd = p.i
        try p.literal(",\"outcome\":")
        let outcomeStart = p.i
        guard let outcome = AuditOutcome(rawValue: try p.string()) else { throw p.error(at: outcomeStart, "unknown outcome") }
        try p.literal(",\"output_sha256\":")
        let outputDigest = try p.nullable { (p) throws(AuditError) in try p.digest() }
        try p.literal(",\"parameters\":")
        let parameters = try p.object { (p) throws(AuditError) in try p.string() }
        try p.literal(",\"policy_digest\":")
        let policyDigest = try p.nullable { (p) throws(AuditError) in try p.digest() }
        try p.literal(",\"prev_hash\":")
        let prevHash = try p.digest()
        try p.literal(",\"project\":")
        let project = try p.nullable { (p) throws(AuditError) in try p.string() }
        try p.literal(",\"reason\":")
        let reason = try p.nullable { (p) throws(AuditError) in try p.string() }
        try p.literal(",\"role\":")
        let role = try p.nullable { (p) throws(AuditError) in try p.string() }
        try p.literal(",\"sequence\":")
        let sequence = try p.integer()
        try p.literal(",\"target\":")
        let target = try p.nullable { (p) throws(AuditError) in try p.string() }
        try p.literal(",\"time\":")
        let time = try p.timestamp()
        try p.literal(",\"version\":")
        let versionStart = p.i
        guard try p.integer() == AuditEvent.formatVersion else { throw p.error(at: versionStart, "unsupported version") }
        try p.literal("}")
        guard p.i == bytes.count else { throw p.error(at: p.i, "trailing bytes after the event") }

        let event = AuditEvent(
            sequence: sequence, time: time, actor: actor, role: role, project: project, action: action, target: target,
            parameters: parameters, policyDigest: policyDigest, outcome: outcome, reason: reason,
            cells: AuditCellCounts(released: Int(released), suppressed: suppressed), outputDigest: outputDigest,
            checkpoint: checkpoint, prevHash: prevHash, hash: hash)

        // The line must be exactly the canonical encoding: the hashed body with the hash member spliced in.
        encoder.encode(event, includingHash: false)
        let canonical = encoder.withEncoded { body in
            body.count + AuditEncoder.hashMemberLength == bytes.count && encoder.hashOffset == hashStart
                && hashEnd - hashStart == AuditEncoder.hashMemberLength
                && same(bytes, 0, body, 0, hashStart) && same(bytes, hashEnd, body, hashStart, body.count - hashStart)
        }
        guard canonical else { throw p.error(at: firstDifference(bytes, encoder.encoded, hashStart: hashStart), "not canonical encoding") }
        return (event, encoder.digestOfEncoded(prevHash: prevHash))
    }

    private static func same(_ a: UnsafeBufferPointer<UInt8>, _ i: Int, _ b: UnsafeBufferPointer<UInt8>, _ j: Int, _ count: Int) -> Bool {
        count == 0 || memcmp(a.baseAddress! + i, b.baseAddress! + j, count) == 0
    }

    /// Offset in `line` of the first byte that differs from the canonical encoding, for the error message.
    private static func firstDifference(_ line: UnsafeBufferPointer<UInt8>, _ body: [UInt8], hashStart: Int) -> Int {
        var canonical = Array(body[..<min(hashStart, body.count)])
        canonical.append(contentsOf: line[hashStart..<min(hashStart + AuditEncoder.hashMemberLength, line.count)])
        canonical.append(contentsOf: body[min(hashStart, body.count)...])
        var i = 0
        while i < line.count, i < canonical.count, line[i] == canonical[i] { i += 1 }
        return i
    }
}

/// A strict cursor over one canonical line.
private struct LineParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0
    private var scratch: [UInt8] = []

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func error(at offset: Int, _ why: String) -> AuditError { .malformedLine(at: offset, why) }

    mutating func literal(_ text: StaticString) throws(AuditError) {
        let n = text.utf8CodeUnitCount
        guard bytes.count - i >= n, memcmp(bytes.baseAddress! + i, text.utf8Start, n) == 0 else { throw error(at: i, "expected \(text)") }
        i += n
    }

    mutating func nullable<T>(_ parse: (inout LineParser) throws(AuditError) -> T) throws(AuditError) -> T? {
        if bytes.count - i >= 4, bytes[i] == UInt8(ascii: "n"), bytes[i + 1] == UInt8(ascii: "u"), bytes[i + 2] == UInt8(ascii: "l"),
            bytes[i + 3] == UInt8(ascii: "l")
        {
            i += 4
            return nil
        }
        return try parse(&self)
    }

    /// A non-negative or negative integer in canonical form (no leading zeros, no `-0`, no sign `+`).
    mutating func integer() throws(AuditError) -> Int64 {
        let start = i
        let negative = i < bytes.count && bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") else { throw error(at: i, "expected an integer") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            guard !negative else { throw error(at: start, "-0 is not canonical") }
            guard i >= bytes.count || bytes[i] < UInt8(ascii: "0") || bytes[i] > UInt8(ascii: "9") else {
                throw error(at: start, "leading zero")
            }
            return 0
        }
        var value: Int64 = 0
        while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
            let digit = Int64(bytes[i] - UInt8(ascii: "0"))
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            guard !o1, !o2 else { throw error(at: start, "integer out of range") }
            value = next
            i += 1
        }
        return value
    }

    /// A JSON string in canonical form: escapes only `\"`, `\\`, `\n`, `\r`, `\t` and `\u00xx` (lower-case hex)
    /// for the other control characters; valid UTF-8.
    mutating func string() throws(AuditError) -> String {
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error(at: i, "expected a string") }
        i += 1
        let start = i
        var ascii = true
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<i])
                i += 1
                if ascii { return String(decoding: raw, as: UTF8.self) }
                guard let s = String(validating: raw, as: UTF8.self) else { throw error(at: start, "invalid UTF-8") }
                return s
            }
            if c == UInt8(ascii: "\\") { return try escapedString(from: start) }
            guard c >= 0x20 else { throw error(at: i, "unescaped control character") }
            if c >= 0x80 { ascii = false }
            i += 1
        }
        throw error(at: start - 1, "unterminated string")
    }

    private mutating func escapedString(from start: Int) throws(AuditError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<i]))
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "\""):
                i += 1
                guard let s = String(validating: scratch, as: UTF8.self) else { throw error(at: start, "invalid UTF-8") }
                return s
            case UInt8(ascii: "\\"):
                guard i + 1 < bytes.count else { throw error(at: i, "unterminated escape") }
                switch bytes[i + 1] {
                case UInt8(ascii: "\""): scratch.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): scratch.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    guard bytes.count - i >= 6, bytes[i + 2] == UInt8(ascii: "0"), bytes[i + 3] == UInt8(ascii: "0"),
                        let hi = LineParser.lowerHex(bytes[i + 4]), let lo = LineParser.lowerHex(bytes[i + 5]), hi < 2
                    else { throw error(at: i, "only \\u00xx escapes of control characters are canonical") }
                    let scalar = hi << 4 | lo
                    guard scalar != 0x09, scalar != 0x0A, scalar != 0x0D else { throw error(at: i, "use \\t, \\n or \\r") }
                    scratch.append(scalar)
                    i += 4
                default: throw error(at: i, "escape that is not canonical")
                }
                i += 2
            default:
                guard c >= 0x20 else { throw error(at: i, "unescaped control character") }
                scratch.append(c)
                i += 1
            }
        }
        throw error(at: start - 1, "unterminated string")
    }

    private static func lowerHex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    mutating func digest() throws(AuditError) -> AuditDigest {
        guard bytes.count - i >= 66, bytes[i] == UInt8(ascii: "\""), bytes[i + 65] == UInt8(ascii: "\""),
            let digest = AuditDigest(hexBytes: bytes, at: i + 1)
        else { throw error(at: i, "expected 64 lower-case hex digits") }
        i += 66
        return digest
    }

    mutating func timestamp() throws(AuditError) -> AuditTimestamp {
        guard bytes.count - i >= 26, bytes[i] == UInt8(ascii: "\""), bytes[i + 25] == UInt8(ascii: "\""),
            let time = AuditTimestamp(canonical: bytes, at: i + 1, count: 24)
        else { throw error(at: i, "expected a time like 2026-11-26T14:03:07.123Z") }
        i += 26
        return time
    }

    /// An object with string keys in strictly increasing byte order and values read by `value`.
    mutating func object<T>(_ value: (inout LineParser) throws(AuditError) -> T) throws(AuditError) -> [String: T] {
        try literal("{")
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            return [:]
        }
        var members = [String: T](minimumCapacity: 8)
        var previous: (key: String, raw: Range<Int>?)?
        while true {
            let keyStart = i
            let key = try string()
            // Unescaped keys are compared in place; keys with escapes by their decoded bytes.
            let raw = bytes[keyStart + 1..<i - 1].contains(UInt8(ascii: "\\")) ? nil : keyStart + 1..<i - 1
            if let previous {
                let ascending: Bool
                if let before = previous.raw, let raw {
                    ascending = bytes[before].lexicographicallyPrecedes(bytes[raw])
                } else {
                    ascending = previous.key.utf8.lexicographicallyPrecedes(key.utf8)
                }
                guard ascending else { throw error(at: keyStart, "keys out of order or repeated") }
            }
            try literal(":")
            members[key] = try value(&self)
            previous = (key, raw)
            guard i < bytes.count else { throw error(at: i, "unterminated object") }
            if bytes[i] == UInt8(ascii: "}") {
                i += 1
                return members
            }
            try literal(",")
        }
    }

    mutating func checkpoint() throws(AuditError) -> AuditCheckpoint {
        try literal("{\"head_hash\":")
        let headHash = try digest()
        try literal(",\"head_sequence\":")
        let headSequence = try integer()
        try literal(",\"key_id\":")
        let keyStart = i
        let keyID = try string()
        guard keyID.utf8.count == 16, keyID.utf8.allSatisfy({ LineParser.lowerHex($0) != nil }) else {
            throw error(at: keyStart, "key_id must be 16 lower-case hex digits")
        }
        let head = AuditHead(sequence: headSequence, hash: headHash)
        if bytes.count - i >= 8, memcmp(bytes.baseAddress! + i, ",\"note\":", 8) == 0 {
            try literal(",\"note\":")
            let note = try string()
            try literal(",\"tree_edge\":[")
            var edge: [AuditDigest] = []
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                i += 1
            } else {
                while true {
                    edge.append(try digest())
                    guard i < bytes.count, edge.count <= 64 else { throw error(at: i, "unterminated tree_edge") }
                    if bytes[i] == UInt8(ascii: "]") {
                        i += 1
                        break
                    }
                    try literal(",")
                }
            }
            try literal("}")
            return AuditCheckpoint(head: head, keyID: keyID, note: note, treeEdge: edge)
        }
        try literal(",\"signature\":")
        let signatureStart = i
        let signatureHex = try string()
        guard signatureHex.utf8.count == 128, signatureHex.utf8.allSatisfy({ LineParser.lowerHex($0) != nil }),
            let signature = Hex.decode(signatureHex)
        else { throw error(at: signatureStart, "signature must be 128 lower-case hex digits") }
        try literal("}")
        return AuditCheckpoint(head: head, keyID: keyID, signature: signature)
    }
}
