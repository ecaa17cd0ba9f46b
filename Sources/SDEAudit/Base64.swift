/// Standard base64 (RFC 4648 section 4, with padding), as PEM files and signed notes write it.
///
/// Decoding is strict: only the standard alphabet, padding to a multiple of four, and zero bits after the last
/// byte, so one byte string has exactly one spelling and a note cannot be altered into another valid form.
enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    /// `bytes` as base64 text.
    static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let bytes = Array(bytes)
        var text: [UInt8] = []
        text.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            let b0 = bytes[i]
            let b1 = n > 1 ? bytes[i + 1] : 0
            let b2 = n > 2 ? bytes[i + 2] : 0
            text.append(alphabet[Int(b0 >> 2)])
            text.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            text.append(n > 1 ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            text.append(n > 2 ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The bytes of canonical base64 `text`, or `nil`.
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 4 * 3)
        var i = 0
        while i < chars.count {
            let last = i + 4 == chars.count
            let padding = last ? (chars[i + 3] == UInt8(ascii: "=") ? (chars[i + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
            var quad: [UInt8] = [0, 0, 0, 0]
            for j in 0..<(4 - padding) {
                let v = values[Int(chars[i + j])]
                guard v != 0xFF else { return nil }
                quad[j] = v
            }
            out.append(quad[0] << 2 | quad[1] >> 4)
            switch padding {
            case 0:
                out.append(quad[1] << 4 | quad[2] >> 2)
                out.append(quad[2] << 6 | quad[3])
            case 1:
                guard quad[2] & 0x03 == 0 else { return nil }
                out.append(quad[1] << 4 | quad[2] >> 2)
            default:
                guard quad[1] & 0x0F == 0 else { return nil }
            }
            i += 4
        }
        return out
    }
}
