import Foundation
import SDECommon
import SDEPolicy
import SDEPolicyFiles
import SDEServiceFakes
import Testing

@Suite struct SigningTests {
    static let projectPath = "projects/p1.yaml"

    /// For every content line of a signed file, changing one byte either makes the set invalid or voids the approval.
    @Test func aOneByteChangeAnywhereInASignedFileVoidsItsApproval() throws {
        let signed = try #require(try Fixture.standard.signedFiles()[Self.projectPath])
        var lines = signed.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var checked = 0
        for index in lines.indices {
            let original = lines[index]
            guard let position = original.lastIndex(where: { $0 != " " }), !original.trimmingCharacters(in: .whitespaces).hasPrefix("#")
            else { continue }
            lines[index].replaceSubrange(position...position, with: String(Self.flip(original[position])))
            var fixture = Fixture.standard
            fixture.unsigned.insert(Self.projectPath)
            fixture.files[Self.projectPath] = lines.joined(separator: "\n")
            do {
                let status = try fixture.load().projects["p1"]?.approvalStatus
                #expect(status?.isApproved == false, "line \(index + 1) changed to '\(lines[index])' kept the approval")
            } catch {
                // An invalid set serves nothing: also safe.
            }
            lines[index] = original
            checked += 1
        }
        #expect(checked > 15)
    }

    /// A different byte of the same kind (digit for digit, letter for letter).
    static func flip(_ c: Character) -> Character {
        switch c {
        case "0"..."8": Character(Unicode.Scalar(c.asciiValue! + 1))
        case "9": "0"
        case "a"..."y", "A"..."Y": Character(Unicode.Scalar(c.asciiValue! + 1))
        case "z": "a"
        case "Z": "A"
        case "]": "}"
        default: "x"
        }
    }

    @Test func commentsAndLayoutAreNotContent() throws {
        var fixture = Fixture.standard
        fixture.tampering.append((Self.projectPath, "# A current, approved project.", "# Reviewed again in March."))
        fixture.tampering.append((Self.projectPath, "members: [res]", "members:\n  - res"))
        #expect(try fixture.load().projects["p1"]?.approvalStatus.isApproved == true)
    }

    @Test func changingTheApprovalDateOrSignerVoidsIt() throws {
        var redated = Fixture.standard
        redated.tampering.append((Self.projectPath, "date: 2026-01-02", "date: 2025-01-02"))
        #expect(try redated.load().projects["p1"]?.approvalStatus.isApproved == false)
        var resigned = Fixture.standard
        resigned.tampering.append((Self.projectPath, "signer: ig\n", "signer: ig-old\n"))
        #expect(try resigned.load().projects["p1"]?.approvalStatus.isApproved == false)
    }

    @Test func signingKeepsTheRestOfTheFileAndReplacesAnOldApproval() throws {
        let text = try #require(Fixture.standard.files[Self.projectPath])
        let once = try PolicySigning.sign(
            text: text, file: Self.projectPath, key: Fixture.key, signer: .igOfficer, root: Fixture.root, date: Fixture.signingDate)
        #expect(once.hasPrefix(text))
        #expect(once.components(separatedBy: "approval:").count == 2)
        let later = CivilDate(year: 2026, month: 3, day: 1)!
        let twice = try PolicySigning.sign(text: once, file: Self.projectPath, key: Fixture.key, signer: .igOfficer, root: Fixture.root, date: later)
        #expect(twice.hasPrefix(text))
        #expect(twice.components(separatedBy: "approval:").count == 2)
        #expect(twice.contains("date: 2026-03-01"))
        var fixture = Fixture.standard
        fixture.unsigned.insert(Self.projectPath)
        fixture.files[Self.projectPath] = twice
        #expect(try fixture.load().projects["p1"]?.approvalStatus == .approved(signer: "ig", date: later))
    }

    @Test func signingKeepsWindowsLineEndingsByteForByte() throws {
        let text = try #require(Fixture.standard.files[Self.projectPath]).replacingOccurrences(of: "\n", with: "\r\n")
        let once = try PolicySigning.sign(
            text: text, file: Self.projectPath, key: Fixture.key, signer: .igOfficer, root: Fixture.root, date: Fixture.signingDate)
        let twice = try PolicySigning.sign(
            text: once, file: Self.projectPath, key: Fixture.key, signer: .igOfficer, root: Fixture.root, date: Fixture.signingDate)
        #expect(Array(once.utf8).starts(with: Array(text.utf8)))
        #expect(Array(twice.utf8).starts(with: Array(text.utf8)))
        #expect(twice.components(separatedBy: "approval:").count == 2)
    }

    @Test func anApprovalInTheMiddleOfTheFileIsMovedToTheEnd() throws {
        let signed = try #require(try Fixture.standard.signedFiles()[Self.projectPath])
        let approvalStart = try #require(signed.range(of: "approval:"))
        let block = String(signed[approvalStart.lowerBound...])
        let moved = "id: p1\n" + block + String(signed[..<approvalStart.lowerBound]).replacingOccurrences(of: "id: p1\n", with: "")
        let resigned = try PolicySigning.sign(
            text: moved, file: Self.projectPath, key: Fixture.key, signer: .igOfficer, root: Fixture.root, date: Fixture.signingDate)
        #expect(resigned.hasPrefix("id: p1\n# A current"))
        #expect(resigned.hasSuffix(block))
    }

    @Test func onlyAnActiveIGOfficerWithTheMatchingKeyMaySign() throws {
        let text = try #require(Fixture.standard.files[Self.projectPath])
        let researcher = User(id: "res", name: "R", organisation: "uni", roles: [.researcher], active: true, trainingExpires: Fixture.today)
        let former = User(id: "ig-old", name: "F", organisation: "sde", roles: [.igOfficer], active: false, trainingExpires: nil)
        let unrooted = User(id: "ig-new", name: "N", organisation: "sde", roles: [.igOfficer], active: true, trainingExpires: nil)
        for (signer, key) in [(researcher, Fixture.key), (former, Fixture.otherKey), (User.igOfficer, Fixture.otherKey), (unrooted, SigningKey())] {
            #expect(throws: PolicyError.self) {
                try PolicySigning.sign(text: text, file: Self.projectPath, key: key, signer: signer, root: Fixture.root, date: Fixture.signingDate)
            }
        }
    }

    @Test func aSignatureByAnOfficerWhoIsNoLongerActiveIsVoid() throws {
        var fixture = Fixture.standard
        fixture.edit("users.yaml", "roles: [ig_officer]\n    active: true", "roles: [ig_officer]\n    active: false")
        let status = try #require(try fixture.load().projects["p1"]?.approvalStatus)
        guard case .void(let reason) = status else {
            Issue.record("expected void, got \(status)")
            return
        }
        #expect(reason.contains("no longer an active IG officer"))
    }

    @Test func keygenWritesAPrivateFileOnceAndSignFileSignsInPlace() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sde-policy-\(UUID().uuidString)").path
        for subdirectory in ["projects", "queries"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + subdirectory, withIntermediateDirectories: true)
        }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keyPath = directory + "/ig.key"
        let key = try PolicyFileSigning.generateKey(writingTo: keyPath)
        let permissions = try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let overwrite = #expect(throws: PolicyError.self) { try PolicyFileSigning.generateKey(writingTo: keyPath) }
        #expect(overwrite?.code == .keyFile)
        #expect(try PolicyFileSigning.readKey(at: keyPath).publicKeyHex == key.publicKeyHex)

        var fixture = Fixture.standard
        fixture.roots = [
            "root/1.yaml": try Fixture.signedRoot(Fixture.rootText(keys: [("ig", key), ("ig-old", Fixture.otherKey)]), by: [("ig", key)])
        ]
        fixture.manifestSigners = [("ig", key)]
        fixture.unsigned = Set(fixture.files.keys)
        try FileManager.default.createDirectory(atPath: directory + "/root", withIntermediateDirectories: true)
        for (path, text) in try fixture.signedFiles() {
            try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/" + path))
        }
        try Data("queries: []\n".utf8).write(to: URL(fileURLWithPath: directory + "/README.md"))
        let projectFile = directory + "/" + Self.projectPath
        let notAnOfficer = #expect(throws: PolicyError.self) {
            try PolicyFileSigning.signFile(at: projectFile, keyFile: keyPath, signer: "res", policyDirectory: directory, date: Fixture.signingDate)
        }
        #expect(notAnOfficer?.code == .signing)
        #expect(throws: PolicyError.self) {
            try PolicyFileSigning.signFile(at: projectFile, keyFile: keyPath, signer: "ig-old", policyDirectory: directory, date: Fixture.signingDate)
        }
        #expect(try PolicyDirectory.load(at: directory, reference: Fixture.reference).projects["p1"]?.approvalStatus == .unsigned)
        try PolicyFileSigning.signFile(at: projectFile, keyFile: keyPath, signer: "ig", policyDirectory: directory, date: Fixture.signingDate)
        // The approval changed the file: no set loads until the IG team signs a new manifest over it.
        let unsigned = #expect(throws: PolicyError.self) { try PolicyDirectory.load(at: directory, reference: Fixture.reference) }
        #expect(unsigned?.diagnostics.map(\.description).contains { $0.hasPrefix(projectFile + ":1: changed since") } == true)
        let manifest = try PolicyFileSigning.signManifest(
            policyDirectory: directory, keyFile: keyPath, signer: "ig", reference: Fixture.reference, date: Fixture.signingDate)
        #expect(manifest.version == 2 && manifest.isNewVersion && manifest.changes == ["changed: projects/p1.yaml"])
        #expect(try PolicyDirectory.load(at: directory, reference: Fixture.reference).projects["p1"]?.approvalStatus.isApproved == true)
    }

    @Test func malformedKeyFilesAreRefused() throws {
        for text in ["", "# only a comment\n", "abcd\n", String(repeating: "zz", count: 32) + "\n", Fixture.key.keyFileText + "00\n"] {
            let error = #expect(throws: PolicyError.self) { try SigningKey(keyFileText: text) }
            #expect(error?.code == .keyFile)
        }
        #expect(try SigningKey(keyFileText: Fixture.key.keyFileText).publicKeyHex == Fixture.key.publicKeyHex)
    }
}
