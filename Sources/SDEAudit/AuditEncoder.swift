import Crypto

/// Writes the canonical encoding of events straight into a reusable byte buffer.
///
/// The normative encoding is ``AuditEvent/jsonValue(includingHash:)`` rendered by `JSONValue.canonicalBytes`; this
/// writer produces the same bytes (the tests compare them, escapes included) without building dictionaries for
/// every event, which keeps hashing and verification fast.
struct AuditEncoder {
    private var storage = AuditEncoder.uninitialized(2048)
    /// Length of the most recent encoding.
    private(set) var count = 0
    /// Where the `,"hash":"…"` member sits in the full encoding; the hashed body is the full encoding without it.
    private(set) var hashOffset = 0
    private var parameters: [(key: String, value: String)] = []
    private var cells: [(key: String, value: Int)] = []

    /// Length of `,"hash":"<64 hex>"`.
    static let hashMemberLength = 74

    /// The most recent encoding.
    var encoded: [UInt8] { Array(storage[0..<count]) }

    /// Calls `body` with the most recent encoding.
    func withEncoded<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        storage.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[0..<count])) }
    }

    /// Encodes `event`, with or without its `hash` member.
    mutating func encode(_ event: AuditEvent, includingHash: Bool) {
        parameters.removeAll(keepingCapacity: true)
        parameters.append(contentsOf: event.parameters)
        if parameters.count > 1 { parameters.sort { AuditEncoder.precedes($0.key, $1.key) } }
        cells.removeAll(keepingCapacity: true)
        cells.append(contentsOf: event.cells.suppressed)
        if cells.count > 1 { cells.sort { AuditEncoder.precedes($0.key, $1.key) } }

        // Every byte of a string may become a six-byte \u00xx escape; everything else fits in 1536 bytes.
        var textBytes = event.action.rawValue.utf8.count + event.actor.utf8.count + (event.role?.utf8.count ?? 0)
        textBytes += (event.project?.utf8.count ?? 0) + (event.target?.utf8.count ?? 0) + (event.reason?.utf8.count ?? 0)
        textBytes += (event.checkpoint?.keyID.utf8.count ?? 0) + 2 * (event.checkpoint?.signature.count ?? 0)
        textBytes += (event.checkpoint?.note?.utf8.count ?? 0) + 67 * (event.checkpoint?.treeEdge.count ?? 0)
        for (key, value) in parameters { textBytes += key.utf8.count + value.utf8.count + 8 }
        for (key, _) in cells { textBytes += key.utf8.count + 8 }
        let bound = 1536 + 6 * textBytes
        if storage.count < bound { storage = AuditEncoder.uninitialized(max(bound, 2 * storage.count)) }

        let parameters = self.parameters
        let cells = self.cells
        var hashOffset = 0
        count = storage.withUnsafeMutableBufferPointer { out in
            var w = Writer(base: out.baseAddress!)
            w.literal("{\"action\":")
            w.string(event.action.rawValue)
            w.literal(",\"actor\":")
            w.string(event.actor)
            w.literal(",\"cells_released\":")
            w.integer(Int64(event.cells.released))
            w.literal(",\"cells_suppressed\":{")
            for (i, (key, value)) in cells.enumerated() {
                if i > 0 { w.byte(UInt8(ascii: ",")) }
                w.string(key)
                w.byte(UInt8(ascii: ":"))
                w.integer(Int64(value))
            }
            w.literal("},\"checkpoint\":")
            if let checkpoint = event.checkpoint {
                w.literal("{\"head_hash\":")
                w.digest(checkpoint.head.hash)
                w.literal(",\"head_sequence\":")
                w.integer(checkpoint.head.sequence)
                w.literal(",\"key_id\":")
                w.string(checkpoint.keyID)
                if let note = checkpoint.note {
                    w.literal(",\"note\":")
                    w.string(note)
                    w.literal(",\"tree_edge\":[")
                    for (i, node) in checkpoint.treeEdge.enumerated() {
                        if i > 0 { w.byte(UInt8(ascii: ",")) }
                        w.digest(node)
                    }
                    w.literal("]}")
                } else {
                    w.literal(",\"signature\":\"")
                    w.hex(checkpoint.signature)
                    w.literal("\"}")
                }
            } else {
                w.literal("null")
            }
            hashOffset = w.position
            if includingHash {
                w.literal(",\"hash\":")
                w.digest(event.hash)
            }
            w.literal(",\"outcome\":")
            w.string(event.outcome.rawValue)
            w.literal(",\"output_sha256\":")
            w.digest(event.outputDigest)
            w.literal(",\"parameters\":{")
            for (i, (key, value)) in parameters.enumerated() {
                if i > 0 { w.byte(UInt8(ascii: ",")) }
                w.string(key)
                w.byte(UInt8(ascii: ":"))
                w.string(value)
            }
            w.literal("},\"policy_digest\":")
            w.digest(event.policyDigest)
            w.literal(",\"prev_hash\":")
            w.digest(event.prevHash)
            w.literal(",\"project\":")
            w.string(event.project)
            w.literal(",\"reason\":")
            w.string(event.reason)
            w.literal(",\"role\":")
            w.string(event.role)
            w.literal(",\"sequence\":")
            w.integer(event.sequence)
            w.literal(",\"target\":")
            w.string(event.target)
            w.literal(",\"time\":\"")
            event.time.write(into: w.base + w.position)
            w.position += 24
            w.literal("\",\"version\":")
            w.integer(AuditEvent.formatVersion)
            w.byte(UInt8(ascii: "}"))
            return w.position
        }
        self.hashOffset = hashOffset
    }

    /// SHA-256 of `prevHash` hex, a line feed and the most recent encoding (which must be without the hash).
    func digestOfEncoded(prevHash: AuditDigest) -> AuditDigest {
        var hasher = SHA256()
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 65) { prefix in
            prevHash.writeHex(into: prefix.baseAddress!)
            prefix[64] = 0x0A
            hasher.update(bufferPointer: UnsafeRawBufferPointer(prefix))
        }
        withEncoded { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        return AuditDigest(hasher.finalize())
    }

    /// The hash `event` should have, recomputed from its fields.
    mutating func hash(of event: AuditEvent) -> AuditDigest {
        encode(event, includingHash: false)
        return digestOfEncoded(prevHash: event.prevHash)
    }

    /// The exact bytes hashed for `event`.
    mutating func hashInput(of event: AuditEvent) -> [UInt8] {
        encode(event, includingHash: false)
        var out: [UInt8] = []
        out.reserveCapacity(65 + count)
        event.prevHash.appendHex(to: &out)
        out.append(0x0A)
        out.append(contentsOf: storage[0..<count])
        return out
    }

    /// A byte array of `count` bytes that are written before they are read (only `storage[0..<count]` is read).
    private static func uninitialized(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// Whether `a` sorts before `b` by UTF-8 bytes, the canonical key order.
    private static func precedes(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let n = min(x.count, y.count)
                var i = 0
                while i < n {
                    if x[i] != y[i] { return x[i] < y[i] }
                    i += 1
                }
                return x.count < y.count
            }
        }
    }
}

/// Raw writes into a buffer known to be large enough.
private struct Writer {
    let base: UnsafeMutablePointer<UInt8>
    var position = 0

    init(base: UnsafeMutablePointer<UInt8>) { self.base = base }

    mutating func byte(_ b: UInt8) {
        base[position] = b
        position += 1
    }

    mutating func literal(_ text: StaticString) {
        (base + position).update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        position += text.utf8CodeUnitCount
    }

    mutating func string(_ s: String?) {
        guard let s else { return literal("null") }
        string(s)
    }

    /// A JSON string with the canonical escapes: `\"`, `\\`, `\n`, `\r`, `\t`, `\u00xx` for other control bytes.
    mutating func string(_ s: String) {
        var s = s
        byte(UInt8(ascii: "\""))
        s.withUTF8 { utf8 in
            var plain = true
            for b in utf8 where b < 0x20 || b == 0x22 || b == 0x5C {
                plain = false
                break
            }
            if plain {
                if let source = utf8.baseAddress { (base + position).update(from: source, count: utf8.count) }
                position += utf8.count
                return
            }
            for b in utf8 {
                switch b {
                case 0x22, 0x5C:
                    byte(0x5C)
                    byte(b)
                case 0x0A: literal("\\n")
                case 0x0D: literal("\\r")
                case 0x09: literal("\\t")
                case 0x00..<0x20:
                    literal("\\u00")
                    byte(Writer.hexDigit(b >> 4))
                    byte(Writer.hexDigit(b & 0x0F))
                default: byte(b)
                }
            }
        }
        byte(UInt8(ascii: "\""))
    }

    mutating func digest(_ digest: AuditDigest?) {
        guard let digest else { return literal("null") }
        byte(UInt8(ascii: "\""))
        digest.writeHex(into: base + position)
        position += 64
        byte(UInt8(ascii: "\""))
    }

    mutating func hex(_ bytes: [UInt8]) {
        for b in bytes {
            byte(Writer.hexDigit(b >> 4))
            byte(Writer.hexDigit(b & 0x0F))
        }
    }

    mutating func integer(_ value: Int64) {
        if value < 0 { byte(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var scan = magnitude
        while scan >= 10 {
            scan /= 10
            digits += 1
        }
        var i = position + digits
        repeat {
            i -= 1
            base[i] = UInt8(truncatingIfNeeded: 0x30 &+ magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        position += digits
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x61 + nibble - 10 }
}
