import Crypto
import SDECommon

/// The on-disk form shared by the broker's secret keys (pseudonymisation and perturbation): 64 lower-case hex digits
/// and a newline, in a file of mode 0600 that is never overwritten.
enum KeyFile {
    /// Parses a key file's contents: exactly 64 lower-case hex digits, then optional trailing whitespace.
    static func parse(_ fileContents: some Collection<UInt8>) throws(ExtractError) -> SymmetricKey {
        var bytes = Array(fileContents)
        while let last = bytes.last, last == 0x20 || last == 0x09 || last == 0x0A || last == 0x0D { bytes.removeLast() }
        let isLowerHex = bytes.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        guard bytes.count == 64, isLowerHex, let raw = Hex.decode(String(decoding: bytes, as: UTF8.self)) else {
            throw .badKeyFile
        }
        return SymmetricKey(data: raw)
    }

    /// Reads and parses the key file at `path`.
    static func read(from path: String) throws(ExtractError) -> SymmetricKey {
        guard let contents = try InputFile.contents(of: path, limit: 4096) else { throw .badKeyFile }
        return try parse(contents)
    }

    /// 64 lower-case hex digits and a newline.
    static func contents(of key: SymmetricKey) -> [UInt8] {
        Array(key.withUnsafeBytes { Hex.encode($0) }.utf8) + [0x0A]
    }

    /// Writes `key` to a new file of mode 0600; fails with ``ExtractError/Code/alreadyExists`` rather than overwrite one.
    static func write(_ key: SymmetricKey, to path: String) throws(ExtractError) {
        let file = try OutputFile(path: path, exclusive: true, mode: 0o600)
        try file.setMode(0o600)
        file.buffer.append(contentsOf: contents(of: key))
        try file.sync()
    }
}
