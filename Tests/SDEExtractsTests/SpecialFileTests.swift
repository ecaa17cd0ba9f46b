import Foundation
import SDEExtracts
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Only regular files are read as extracts, keys and reference lists (issue 13: a FIFO in an extract folder hung
/// `data ingest`): a FIFO or a device, or a symbolic link to one, is refused as `file:1` at once.
@Suite struct ExtractSpecialFileTests {
    /// Makes a FIFO at `path`; if a reader is still blocked on it after two seconds (the old behaviour), a header row
    /// is written to it so that the test ends (and fails on its timing) instead of hanging.
    static func fifo(_ path: String) throws {
        try #require(mkfifo(path, 0o600) == 0, "mkfifo \(path)")
        DispatchQueue.global().asyncAfter(deadline: .now() + 2) {
            signal(SIGPIPE, SIG_IGN)
            let fd = open(path, O_WRONLY | O_NONBLOCK)  // fails with ENXIO when nobody is reading: nothing to unblock
            guard fd >= 0 else { return }
            let text = ExtractKind.socialCareColumns.joined(separator: ",") + "\n"
            _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
            close(fd)
        }
    }

    enum Special: String, CaseIterable, Sendable {
        case fifo, symlinkToFIFO, symlinkToDevice, directory
    }

    /// `name` in a fresh directory made into `special`; returns the directory and the path.
    static func make(_ special: Special, named name: String) throws -> (directory: String, path: String) {
        let directory = try Fixture.temporaryDirectory()
        let path = directory + "/" + name
        switch special {
        case .fifo: try fifo(path)
        case .symlinkToFIFO:
            try fifo(directory + "/elsewhere")
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: directory + "/elsewhere")
        case .symlinkToDevice: try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
        case .directory: try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
        return (directory, path)
    }

    static func expectRefused(_ path: String, _ body: () throws(ExtractError) -> Void) {
        let start = ContinuousClock.now
        let error = #expect(throws: ExtractError.self) { try body() }
        #expect(ContinuousClock.now - start < .seconds(1), "refused at once, without waiting for a writer")
        #expect(error?.code == .notRegularFile, "\(String(describing: error))")
        #expect(error?.message.hasPrefix(path + ":1: not a regular file") == true, "\(String(describing: error))")
    }

    @Test(arguments: Special.allCases)
    func anExtractThatIsNotARegularFileIsRefusedAtLineOne(_ special: Special) throws {
        let (directory, path) = try Self.make(special, named: "social_care_E06000001.csv")
        defer { Fixture.removeDirectory(directory) }
        #expect(try ExtractReader.extractFiles(in: directory) == [path], "listed by name, refused when opened")
        Self.expectRefused(path) { () throws(ExtractError) in
            _ = try ExtractReader(path: path, laCodes: Fixture.laCodes, pseudonymiser: Fixture.pseudonymiser)
        }
        Self.expectRefused(path) { () throws(ExtractError) in _ = try ExtractReader.sha256(ofFile: path) }
    }

    @Test(arguments: Special.allCases)
    func aKeyOrReferenceFileThatIsNotARegularFileIsRefused(_ special: Special) throws {
        let (directory, path) = try Self.make(special, named: "pseudonymisation.key")
        defer { Fixture.removeDirectory(directory) }
        Self.expectRefused(path) { () throws(ExtractError) in _ = try PseudonymisationKey.read(from: path) }
        Self.expectRefused(path) { () throws(ExtractError) in _ = try PerturbationKey.read(from: path) }
        Self.expectRefused(path) { () throws(ExtractError) in _ = try LocalAuthority.load(from: path) }
    }

    @Test func aRegularFileHashesAsItsBytes() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(directory) }
        try Data("abc".utf8).write(to: URL(fileURLWithPath: directory + "/x.csv"))
        #expect(try ExtractReader.sha256(ofFile: directory + "/x.csv") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
