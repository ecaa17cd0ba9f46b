import Foundation
import SDEPolicy
import SDEPolicyFiles
import SDEServiceFakes
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Only regular files are read from a policy directory (issue 13: a FIFO in `Policies/` hung every request after
/// SIGHUP, and `policy check`): a FIFO or a device, or a symbolic link to one, is refused as `file:1` at once.
@Suite struct PolicySpecialFileTests {
    /// A policy directory holding the fixture's signed files.
    static func directory() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sde-policy-\(UUID().uuidString)").path
        for subdirectory in ["projects", "queries", "root"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + subdirectory, withIntermediateDirectories: true)
        }
        for (path, text) in try Fixture.standard.signedFiles() {
            try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/" + path))
        }
        return directory
    }

    /// Makes a FIFO at `path`. If a reader is still blocked on it after two seconds (the old behaviour), `text` is
    /// written to it so that the test ends (and fails on its timing) instead of hanging.
    static func fifo(_ path: String, unblockingWith text: String = "users: [\n") throws {
        try #require(mkfifo(path, 0o600) == 0, "mkfifo \(path)")
        DispatchQueue.global().asyncAfter(deadline: .now() + 2) {
            signal(SIGPIPE, SIG_IGN)
            let fd = open(path, O_WRONLY | O_NONBLOCK)  // fails with ENXIO when nobody is reading: nothing to unblock
            guard fd >= 0 else { return }
            _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
            close(fd)
        }
    }

    enum Special: String, CaseIterable, Sendable {
        case fifo, symlinkToFIFO, symlinkToDevice
    }

    @Test(arguments: Special.allCases, ["projects/p1.yaml", "users.yaml"])
    func aPolicyFileThatIsNotARegularFileIsRefusedAtLineOne(_ special: Special, _ file: String) throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/" + file
        try FileManager.default.removeItem(atPath: path)
        switch special {
        case .fifo: try Self.fifo(path)
        case .symlinkToFIFO:
            try Self.fifo(directory + "/.elsewhere")
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: directory + "/.elsewhere")
        case .symlinkToDevice: try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
        }
        let start = ContinuousClock.now
        let error = #expect(throws: PolicyError.self) { try PolicyDirectory.load(at: directory, reference: Fixture.reference) }
        #expect(ContinuousClock.now - start < .seconds(1), "refused at once, without waiting for a writer")
        #expect(error?.code == .invalidPolicy)
        #expect(error?.diagnostics.count == 1)
        #expect(error?.diagnostics.first?.file == path && error?.diagnostics.first?.line == 1, "\(String(describing: error))")
        #expect(error?.diagnostics.first?.message.contains("not a regular file") == true)
    }

    @Test func aSymbolicLinkToARegularFileIsRead() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.moveItem(atPath: directory + "/users.yaml", toPath: directory + "/.users-real")
        try FileManager.default.createSymbolicLink(atPath: directory + "/users.yaml", withDestinationPath: directory + "/.users-real")
        #expect(try PolicyDirectory.load(at: directory, reference: Fixture.reference).users["res"] != nil)
    }
}
