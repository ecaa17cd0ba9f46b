import Foundation
import SDEExtracts
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Raw extracts hold NHS numbers: they are written mode 0600 in directories of mode 0700, whatever the umask and
/// whatever the files were before (issue 13: extracts under `.sde/extracts` were 0644, so a database superuser could
/// read NHS numbers with `pg_read_file`).
@Suite struct ExtractModeTests {
    static func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    static let councils = Array(Fixture.localAuthorities.prefix(3))

    @Test func newExtractsAreOwnerOnlyInOwnerOnlyDirectories() throws {
        let root = try Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(root) }
        let old = umask(0o022)
        defer { umask(old) }
        let summary = try SyntheticExtracts.write(persons: 50, seed: 1, to: root + "/extracts/run", localAuthorities: Self.councils)
        #expect(try Self.mode(root + "/extracts") == 0o700)
        #expect(try Self.mode(root + "/extracts/run") == 0o700)
        for name in summary.fileNames { #expect(try Self.mode(root + "/extracts/run/" + name) == 0o600, "\(name)") }
    }

    @Test func replacedExtractsBecomeOwnerOnlyAndAnExistingDirectoryKeepsItsMode() throws {
        let root = try Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(root) }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root)
        let hospital = root + "/" + ExtractKind.hospitalFileName
        try #require(FileManager.default.createFile(atPath: hospital, contents: Data("old\n".utf8), attributes: [.posixPermissions: 0o644]))
        let summary = try SyntheticExtracts.write(persons: 50, seed: 1, to: root, localAuthorities: Self.councils)
        for name in summary.fileNames { #expect(try Self.mode(root + "/" + name) == 0o600, "\(name)") }
        #expect(try Self.mode(root) == 0o755, "a directory the caller chose (say /tmp) is not changed")
    }

    @Test func restrictingAnEarlierTreeMakesItOwnerOnly() throws {
        let root = try Fixture.temporaryDirectory()
        defer { Fixture.removeDirectory(root) }
        let summary = try SyntheticExtracts.write(persons: 50, seed: 1, to: root + "/run", localAuthorities: Self.councils)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root + "/run")
        for name in summary.fileNames { try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: root + "/run/" + name) }
        try SyntheticExtracts.restrictPermissions(of: root + "/run")
        #expect(try Self.mode(root + "/run") == 0o700)
        for name in summary.fileNames { #expect(try Self.mode(root + "/run/" + name) == 0o600, "\(name)") }
    }
}
