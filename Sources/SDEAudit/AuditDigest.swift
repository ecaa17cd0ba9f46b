import Crypto

/// A SHA-256 digest as the audit trail writes it: 64 lower-case hex digits.
///
/// Chain hashes, the digest of the exact bytes released and the policy-set digest all use this type, so a
/// malformed digest cannot enter an event.
///
/// ```swift
/// let released = AuditDigest.sha256(of: Array(#"{"rows":[]}"#.utf8))
/// released.hex.count   // 64
/// ```
public struct AuditDigest: Sendable, Hashable, CustomStringConvertible {
    // The 32 digest bytes as four big-endian words: no heap storage, cheap to compare.
    private let w0: UInt64
    private let w1: UInt64
    private let w2: UInt64
    private let w3: UInt64

    /// 64 zeros: the previous hash of the first event of a chain.
    public static let zero = AuditDigest(w0: 0, w1: 0, w2: 0, w3: 0)

    private init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// A digest from exactly 32 bytes, or `nil`.
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count == 32 else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (i, byte) in bytes.enumerated() { words[i / 8] = words[i / 8] << 8 | UInt64(byte) }
        self.init(w0: words[0], w1: words[1], w2: words[2], w3: words[3])
    }

    /// A digest from exactly 64 lower-case hex digits (the only form the trail writes), or `nil`.
    public init?(hex: some StringProtocol) {
        var utf8 = Array(hex.utf8)
        guard utf8.count == 64, let digest = utf8.withUnsafeMutableBufferPointer({ AuditDigest(hexBytes: UnsafeBufferPointer($0), at: 0) }) else {
            return nil
        }
        self = digest
    }

    /// Parses 64 lower-case hex digits starting at `start`; `nil` unless all 64 are present and valid.
    init?(hexBytes bytes: UnsafeBufferPointer<UInt8>, at start: Int) {
        guard start >= 0, bytes.count - start >= 64 else { return nil }
        let p = bytes.baseAddress! + start
        var invalid: UInt8 = 0
        func word(_ offset: Int) -> UInt64 {
            var value: UInt64 = 0
            for i in 0..<16 {
                let nibble = AuditDigest.nibbles[Int(p[offset + i])]
                invalid |= nibble
                value = value << 4 | UInt64(nibble & 0x0F)
            }
            return value
        }
        let (w0, w1, w2, w3) = (word(0), word(16), word(32), word(48))
        guard invalid & 0xF0 == 0 else { return nil }
        self.init(w0: w0, w1: w1, w2: w2, w3: w3)
    }

    /// Value of each byte as a lower-case hex digit; 0xFF for anything else.
    private static let nibbles: [UInt8] = (0...255).map { c in
        switch UInt8(c) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt8(c) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt8(c) - UInt8(ascii: "a") + 10
        default: 0xFF
        }
    }

    /// The SHA-256 digest of `bytes`, e.g. of the exact response body released to a user.
    public static func sha256<Bytes: Sequence>(of bytes: Bytes) -> AuditDigest where Bytes.Element == UInt8 {
        if let digest = bytes.withContiguousStorageIfAvailable({ AuditDigest(SHA256.hash(data: UnsafeRawBufferPointer($0))) }) {
            return digest
        }
        return AuditDigest(SHA256.hash(data: Array(bytes)))
    }

    init(_ digest: SHA256.Digest) {
        self = digest.withUnsafeBytes { raw in
            func word(_ i: Int) -> UInt64 { UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) }
            return AuditDigest(w0: word(0), w1: word(1), w2: word(2), w3: word(3))
        }
    }

    /// The 32 digest bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for word in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return out
    }

    /// Writes the 32 digest bytes at `p`.
    func writeBytes(into p: UnsafeMutableRawPointer) {
        for (i, word) in [w0, w1, w2, w3].enumerated() { p.storeBytes(of: word.bigEndian, toByteOffset: i * 8, as: UInt64.self) }
    }

    /// 64 lower-case hex digits.
    public var hex: String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        appendHex(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Same as ``hex``.
    public var description: String { hex }

    /// Appends the 64 hex digits to `out`.
    func appendHex(to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: 64))
        out.withUnsafeMutableBufferPointer { writeHex(into: $0.baseAddress! + start) }
    }

    /// Writes the 64 hex digits at `p`.
    func writeHex(into p: UnsafeMutablePointer<UInt8>) {
        AuditDigest.writeHex(of: w0, into: p)
        AuditDigest.writeHex(of: w1, into: p + 16)
        AuditDigest.writeHex(of: w2, into: p + 32)
        AuditDigest.writeHex(of: w3, into: p + 48)
    }

    private static func writeHex(of word: UInt64, into p: UnsafeMutablePointer<UInt8>) {
        let digits: StaticString = "0123456789abcdef"
        let table = digits.utf8Start
        for i in 0..<16 { p[i] = table[Int(truncatingIfNeeded: word >> UInt64(60 - 4 * i)) & 0x0F] }
    }
}

/// The head of a chain: the sequence number and hash of its last event.
///
/// A head is what a checkpoint signs and what an operator writes down elsewhere to detect truncation later.
public struct AuditHead: Sendable, Hashable, CustomStringConvertible {
    /// Sequence number of the last event; 0 for an empty chain.
    public let sequence: Int64
    /// Hash of the last event; ``AuditDigest/zero`` for an empty chain.
    public let hash: AuditDigest

    /// The head of an empty chain: sequence 0 and 64 zeros.
    public static let genesis = AuditHead(sequence: 0, hash: .zero)

    /// A head with the given sequence number and hash.
    public init(sequence: Int64, hash: AuditDigest) {
        self.sequence = sequence
        self.hash = hash
    }

    /// `#sequence hash`.
    public var description: String { "#\(sequence) \(hash.hex)" }
}
