import Foundation
import SDECommon
import SDEDisclosure
import SDEPolicy
import SDEServiceFakes
import Testing

/// Issue 13's attacks on the policy files by whoever can write `Policies/` but holds no IG officer's private key, and
/// the signed set's own rules: roots, thresholds, the manifest, floors and rollback.
@Suite struct SignedPolicySetTests {
    /// The fixture's files as they are on disk (every signature made), then `path` edited: what an operator can do alone.
    static func sources(_ fixture: Fixture = .standard, editing path: String, _ old: String, _ new: String) throws -> [PolicySourceFile] {
        try fixture.sources().map { file in
            guard file.path == path else { return file }
            let text = String(decoding: file.bytes, as: UTF8.self)
            #expect(text.contains(old), "'\(old)' not in \(path)")
            return PolicySourceFile(path: path, bytes: Array(text.replacingOccurrences(of: old, with: new).utf8))
        }
    }

    /// The diagnostics of `files`, which must not load.
    static func refusal(_ files: [PolicySourceFile], sourceLocation: SourceLocation = #_sourceLocation) -> [PolicyDiagnostic] {
        do {
            _ = try PolicySet.load(files, reference: Fixture.reference)
            Issue.record("the policy set loaded", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.diagnostics
        }
    }

    /// A third IG officer's key, for rotations.
    static let thirdKey = SigningKey()

    /// Root 2 adding `ig-new` with threshold 2 over `ig` and `ig-new`, signed by `signers`.
    static func secondRoot(signedBy signers: [(id: String, key: SigningKey)]) throws -> String {
        try Fixture.signedRoot(
            Fixture.rootText(version: 2, threshold: 2, keys: [("ig", Fixture.key), ("ig-new", thirdKey)]), version: 2, previous: Fixture.root,
            by: signers)
    }

    // MARK: The attacks of issue 13

    @Test func aLoosenedProfileWithoutANewSignedManifestIsRefusedNamingTheFile() throws {
        // Above the built-in floor, so only the manifest can catch it.
        let diagnostics = Self.refusal(try Self.sources(editing: "disclosure-profiles.yaml", "threshold: 10", "threshold: 6"))
        #expect(
            diagnostics.map(\.description).contains {
                $0.hasPrefix("disclosure-profiles.yaml:1: changed since the IG team signed manifest version 1")
            },
            "\(diagnostics)")
        // The issue's own attack: threshold 1 and no rounding, then SIGHUP.
        let one = Self.refusal(
            try Self.sources(editing: "disclosure-profiles.yaml", "threshold: 10\n    rounding_base: 5", "threshold: 1\n    rounding_base: 1"))
        #expect(one.contains { $0.file == "disclosure-profiles.yaml" && $0.message.contains("manifest") }, "\(one)")
    }

    @Test func aProfileUnderTheBuiltInFloorIsRefusedEvenWhenSigned() throws {
        let cases = [
            ("threshold: 10", "threshold: 1", "threshold"), ("threshold: 10", "threshold: 4", "threshold"),
            ("min_persons_for_mean: 10", "min_persons_for_mean: 2", "min_persons_for_mean"), ("p_percent: 0.10", "p_percent: 0", "p_percent"),
            ("dominance_k: 0.90", "dominance_k: 1", "dominance_k"),
            (
                "method: rounding\n    threshold: 10\n    rounding_base: 5",
                "method: cell_key\n    threshold: 10\n    max_noise: 1\n    noise_variance: 0.1\n    magnitude_noise: 0.1", "noise_variance"
            ),
        ]
        for (old, new, key) in cases {
            var fixture = Fixture.standard
            fixture.edit("disclosure-profiles.yaml", old, new)
            let line = fixture.line(of: "\(key):", in: "disclosure-profiles.yaml")
            let diagnostics = try fixture.diagnostics()
            #expect(
                diagnostics.contains {
                    $0.file == "disclosure-profiles.yaml" && $0.line == line && $0.message.contains("'\(key)'")
                        && $0.message.contains("DisclosureFloors")
                }, "\(new): \(diagnostics)")
        }
    }

    @Test func anUnsignedSetIsRefusedNamingTheManifestAndTheRoot() throws {
        var unsigned = Fixture.standard
        unsigned.manifestSigners = []
        let diagnostics = Self.refusal(try unsigned.sources())
        #expect(diagnostics.map(\.description).contains { $0.hasPrefix("manifest.yaml:1: missing the signed manifest") }, "\(diagnostics)")
        var rootless = Fixture.standard
        rootless.roots = [:]
        let noRoot = Self.refusal(try rootless.sources())
        #expect(noRoot.map(\.description).contains { $0.hasPrefix("root/1.yaml:1: missing the policy root") }, "\(noRoot)")
    }

    @Test func aTrainingDateOrAMemberChangedWithoutANewSignedManifestIsRefused() throws {
        let training = Self.refusal(try Self.sources(editing: "users.yaml", "training_expires: 2027-01-31", "training_expires: 2030-01-31"))
        #expect(training.contains { $0.file == "users.yaml" && $0.line == 1 && $0.message.contains("manifest") }, "\(training)")
        let member = Self.refusal(try Self.sources(editing: "projects/p1.yaml", "members: [res]", "members: [res, res2]"))
        #expect(member.contains { $0.file == "projects/p1.yaml" && $0.message.contains("manifest") }, "\(member)")
        let role = Self.refusal(try Self.sources(editing: "users.yaml", "roles: [regulator]", "roles: [regulator, researcher]"))
        #expect(role.contains { $0.file == "users.yaml" }, "\(role)")
    }

    @Test func aFileAddedOrRemovedWithoutANewSignedManifestIsRefused() throws {
        var added = try Fixture.standard.sources()
        added.append(PolicySourceFile(path: "queries/q3.yaml", bytes: Array("id: q3\n".utf8)))
        #expect(Self.refusal(added).map(\.description).contains { $0.hasPrefix("queries/q3.yaml:1: not in the signed manifest") })
        let removed = try Fixture.standard.sources().filter { $0.path != "queries/q2.yaml" }
        let manifest = try #require(try Fixture.standard.signedFiles()["manifest.yaml"])
        let line = manifest[..<manifest.range(of: "queries/q2.yaml:")!.lowerBound].filter { $0 == "\n" }.count + 1
        #expect(Self.refusal(removed).map(\.description).contains { $0.hasPrefix("manifest.yaml:\(line): lists 'queries/q2.yaml'") })
    }

    @Test func anIGKeySubstitutedInUsersYamlIsRefused() throws {
        // Whoever writes Policies/ makes a key, names it the IG officer's, and approves a project change of their own.
        let attacker = SigningKey()
        let forged = try PolicySigning.roots(in: [
            PolicySourceFile(
                path: "root/1.yaml", bytes: Array(try Fixture.signedRoot(Fixture.rootText(keys: [("ig", attacker)]), by: [("ig", attacker)]).utf8))
        ])[0]
        var files: [PolicySourceFile] = []
        for file in try Fixture.standard.sources() {
            var text = String(decoding: file.bytes, as: UTF8.self)
            if file.path == "users.yaml" {
                text = text.replacingOccurrences(
                    of: "roles: [ig_officer]\n    active: true\n",
                    with: "roles: [ig_officer]\n    active: true\n    public_key: \(attacker.publicKeyHex)\n")
            }
            if file.path == "projects/p1.yaml" {
                text = text.replacingOccurrences(of: "members: [res]", with: "members: [res, res2]")
                text = try PolicySigning.sign(
                    text: text, file: file.path, key: attacker, signer: Fixture.signer, root: forged, date: Fixture.signingDate)
            }
            files.append(PolicySourceFile(path: file.path, bytes: Array(text.utf8)))
        }
        let diagnostics = Self.refusal(files)
        #expect(diagnostics.contains { $0.file == "users.yaml" && $0.message.contains("public keys are in the policy root") }, "\(diagnostics)")
        #expect(diagnostics.contains { $0.file == "users.yaml" && $0.message.contains("changed since") }, "\(diagnostics)")
        #expect(diagnostics.contains { $0.file == "projects/p1.yaml" && $0.message.contains("changed since") }, "\(diagnostics)")

        // Even inside a set the IG team signed, an approval made with a key the root does not hold is void.
        var fixture = Fixture.standard
        fixture.unsigned = ["projects/p1.yaml"]
        fixture.files["projects/p1.yaml"] = try PolicySigning.sign(
            text: fixture.files["projects/p1.yaml"]!, file: "projects/p1.yaml", key: attacker, signer: Fixture.signer, root: forged,
            date: Fixture.signingDate)
        #expect(try fixture.load().projects["p1"]?.approvalStatus.isApproved == false)
    }

    @Test func aRootNotSignedByAThresholdOfThePreviousRootIsRefused() throws {
        // The attacker adds root 2 naming their own key as `ig`, signed by that key only.
        let attacker = SigningKey()
        var fixture = Fixture.standard
        let text = Fixture.rootText(version: 2, keys: [("ig", attacker)])
        fixture.roots["root/2.yaml"] = try Fixture.signedRoot(text, version: 2, previous: Fixture.root, by: [("ig", attacker)])
        fixture.manifestSigners = [("ig", attacker)]
        let diagnostics = Self.refusal(try fixture.sources())
        #expect(
            diagnostics.contains {
                $0.file == "root/2.yaml" && $0.message.contains("signed by 0 of the 1 IG officers root/1.yaml requires")
                    && $0.message.contains("the previous root's IG officers")
            }, "\(diagnostics)")
        // A root signed by the previous officers but not by a threshold of its own is refused too.
        var half = Fixture.standard
        half.roots["root/2.yaml"] = try Self.secondRoot(signedBy: [("ig", Fixture.key)])
        let own = Self.refusal(try half.sources())
        #expect(own.contains { $0.file == "root/2.yaml" && $0.message.contains("signed by 1 of the 2 IG officers root/2.yaml requires") }, "\(own)")
    }

    @Test func aRotatedRootSignedByBothThresholdsGovernsTheManifest() throws {
        var fixture = Fixture.standard
        fixture.roots["root/2.yaml"] = try Self.secondRoot(signedBy: [("ig", Fixture.key), ("ig-new", Self.thirdKey)])
        // Root 2 needs two signatures on the manifest; `ig-old` is no longer a key.
        let one = Self.refusal(try fixture.sources())
        #expect(
            one.contains { $0.file == "manifest.yaml" && $0.message.contains("signed by 1 of the 2 IG officers root/2.yaml requires (ig)") }, "\(one)"
        )
        fixture.manifestSigners = [("ig", Fixture.key), ("ig-new", Self.thirdKey)]
        let policy = try fixture.load()
        #expect(policy.trust.root.version == 2 && policy.trust.roots.count == 2)
        #expect(policy.trust.manifestSigners == ["ig", "ig-new"])
        #expect(policy.projects["p1"]?.approvalStatus.isApproved == true)
        // A root with a gap in the chain is refused.
        var gap = fixture
        gap.roots["root/3.yaml"] = gap.roots["root/2.yaml"]?.replacingOccurrences(of: "version: 2", with: "version: 3")
        gap.roots["root/2.yaml"] = nil
        #expect(Self.refusal(try gap.sources()).map(\.description).contains { $0.hasPrefix("root/2.yaml:1: missing root version 2") })
    }

    @Test func signaturesByUnknownOrDuplicatedKeysDoNotCount() throws {
        var foreign = Fixture.standard
        foreign.manifestSigners = [("mallory", SigningKey())]
        let diagnostics = Self.refusal(try foreign.sources())
        #expect(diagnostics.contains { $0.file == "manifest.yaml" && $0.message.contains("'mallory' holds no key in root/1.yaml") }, "\(diagnostics)")
        // The same officer twice is one signature; the same key under two ids is refused in the root.
        var twice = Fixture.standard
        twice.roots = [
            "root/1.yaml": try Fixture.signedRoot(
                Fixture.rootText(threshold: 2, keys: [("ig", Fixture.key), ("ig-old", Fixture.otherKey)]),
                by: [("ig", Fixture.key), ("ig-old", Fixture.otherKey)])
        ]
        twice.manifestSigners = [("ig", Fixture.key), ("ig", Fixture.key)]
        #expect(Self.refusal(try twice.sources()).contains { $0.message.contains("signed by 1 of the 2") })
        let shared = Fixture.rootText(keys: [("ig", Fixture.key), ("ig-twin", Fixture.key)])
        var same = Fixture.standard
        same.roots = ["root/1.yaml": shared]
        #expect(Self.refusal(try same.sources()).contains { $0.file == "root/1.yaml" && $0.message.contains("the same public key as 'ig'") })
    }

    @Test func aManifestEditedAfterSigningIsRefused() throws {
        var fixture = Fixture.standard
        fixture.afterManifest = [("manifest.yaml", "version: 1", "version: 9")]
        let diagnostics = Self.refusal(try fixture.sources())
        #expect(diagnostics.contains { $0.file == "manifest.yaml" && $0.message.contains("does not verify") }, "\(diagnostics)")
    }

    // MARK: Rollback and pinning (pure; the database-backed tests are in SDEStoreTests)

    @Test func theFirstSetIsPinnedAndLaterVersionsMayOnlyGoUp() throws {
        let first = try Fixture.standard.load().trust
        guard case .success(let pin) = first.admission(after: []) else { Issue.record("refused"); return }
        #expect(pin.pinned && pin.recorded.map(\.kind) == [.root, .manifest])
        let history = pin.recorded
        guard case .success(let again) = first.admission(after: history) else { Issue.record("refused"); return }
        #expect(!again.pinned && again.recorded.isEmpty)

        var newer = Fixture.standard
        newer.manifestVersion = 2
        _ = newer.replace("projects/p1.yaml", "status: approved", "status: suspended")
        let second = try newer.load().trust
        guard case .success(let update) = second.admission(after: history) else { Issue.record("refused"); return }
        #expect(update.recorded == [PolicyVersionRecord(kind: .manifest, version: 2, digest: second.manifest.digest)])

        // Back to version 1 (the project approved again) after version 2 was accepted: refused.
        guard case .failure(let rollback) = first.admission(after: history + update.recorded) else { Issue.record("accepted"); return }
        #expect(rollback.code == .rollback)
        #expect(rollback.diagnostics.map(\.description).contains { $0.hasPrefix("manifest.yaml:4: manifest version 1 is older than version 2") })

        // The same version with other content: refused.
        var sameVersion = Fixture.standard
        sameVersion.manifestVersion = 2
        let other = try sameVersion.load().trust
        guard case .failure(let changed) = other.admission(after: history + update.recorded) else { Issue.record("accepted"); return }
        #expect(changed.diagnostics.contains { $0.message.contains("is not the version 2 this broker accepted") })
    }

    @Test func aRootThatDoesNotChainFromThePinnedRootIsRefused() throws {
        let pinned = try Fixture.standard.load().trust.records
        // Whoever writes Policies/ replaces the whole root chain with one of their own and signs a manifest with it: the
        // set verifies offline (a first root is trusted on first use), but not against the pinned root.
        let attacker = SigningKey()
        var replaced = Fixture.standard
        replaced.roots = ["root/1.yaml": try Fixture.signedRoot(Fixture.rootText(keys: [("ig", attacker)]), by: [("ig", attacker)])]
        replaced.manifestSigners = [("ig", attacker)]
        replaced.approvalKey = attacker
        replaced.manifestVersion = 5
        let forged = try replaced.load().trust
        guard case .failure(let refusal) = forged.admission(after: pinned) else { Issue.record("accepted"); return }
        #expect(refusal.diagnostics.map(\.description).contains { $0.hasPrefix("root/1.yaml:1: is not the root version 1 this broker accepted") })

        // A proper rotation is recorded; going back to root 1 alone afterwards is a rollback.
        var rotated = Fixture.standard
        rotated.roots["root/2.yaml"] = try Self.secondRoot(signedBy: [("ig", Fixture.key), ("ig-new", Self.thirdKey)])
        rotated.manifestSigners = [("ig", Fixture.key), ("ig-new", Self.thirdKey)]
        rotated.manifestVersion = 2
        let second = try rotated.load().trust
        guard case .success(let admitted) = second.admission(after: pinned) else { Issue.record("refused"); return }
        #expect(admitted.recorded.map(\.description) == [second.records[1].description, second.records[2].description])
        var back = Fixture.standard
        back.manifestVersion = 3
        guard case .failure(let rollback) = try back.load().trust.admission(after: pinned + admitted.recorded) else {
            Issue.record("accepted"); return
        }
        #expect(rollback.diagnostics.contains { $0.file == "root/1.yaml" && $0.message.contains("older than root version 2") })
    }

    // MARK: The signing workflow

    @Test func eachIGOfficerSignsTheManifestWithTheSameCommand() throws {
        var fixture = Fixture.standard
        fixture.roots = [
            "root/1.yaml": try Fixture.signedRoot(
                Fixture.rootText(threshold: 2, keys: [("ig", Fixture.key), ("ig-old", Fixture.otherKey)]),
                by: [("ig", Fixture.key), ("ig-old", Fixture.otherKey)])
        ]
        fixture.manifestSigners = [("ig", Fixture.key), ("ig-old", Fixture.otherKey)]
        var files = try fixture.sources()
        func replace(_ path: String, _ text: String) {
            files = files.filter { $0.path != path } + [PolicySourceFile(path: path, bytes: Array(text.utf8))]
        }
        func sign(_ signer: String, _ key: SigningKey) throws -> ManifestSigning {
            let signing = try PolicySigning.signManifest(files: files, reference: Fixture.reference, key: key, signer: signer, date: Fixture.today)
            replace("manifest.yaml", signing.text)
            return signing
        }
        // The IG team tightens a profile: the first signature starts version 2 and names the change; one is not enough.
        let profiles = String(decoding: files.first { $0.path == "disclosure-profiles.yaml" }!.bytes, as: UTF8.self)
        replace("disclosure-profiles.yaml", profiles.replacingOccurrences(of: "threshold: 10", with: "threshold: 11"))
        let first = try sign("ig", Fixture.key)
        #expect(first.version == 2 && first.isNewVersion && first.changes == ["changed: disclosure-profiles.yaml"] && first.signers == ["ig"])
        #expect(Self.refusal(files).contains { $0.message.contains("signed by 1 of the 2") })
        // The second officer runs the same command: same version, both signatures, the set loads.
        let second = try sign("ig-old", Fixture.otherKey)
        #expect(second.version == 2 && !second.isNewVersion && second.signers == ["ig", "ig-old"])
        #expect(try PolicySet.load(files, reference: Fixture.reference).trust.manifest.version == 2)
        // Running it again changes nothing but the date of that signature.
        #expect(try sign("ig", Fixture.key).version == 2)
        #expect(try PolicySet.load(files, reference: Fixture.reference).trust.manifestSigners == ["ig", "ig-old"])
        // Nobody else signs, and an invalid set (under a floor) is not signed at all.
        #expect(throws: PolicyError.self) { try sign("ig", Fixture.otherKey) }
        #expect(throws: PolicyError.self) { try sign("mallory", SigningKey()) }
        replace("disclosure-profiles.yaml", profiles.replacingOccurrences(of: "threshold: 10", with: "threshold: 2"))
        let floor = #expect(throws: PolicyError.self) { try sign("ig", Fixture.key) }
        #expect(floor?.diagnostics.contains { $0.message.contains("DisclosureFloors.threshold") } == true)
    }

    @Test func floorsAreOnePlaceAndNameThemselves() {
        #expect(DisclosureFloors.violations(of: DisclosureRules()).isEmpty)
        let loose = DisclosureRules(
            threshold: 1, perturbation: CellKeyPerturbation(maxNoise: 0, variance: 0.1, magnitudeShare: 0.001), roundingBase: 1, dominanceK: 1,
            pPercent: 0, minPersonsForMean: 1)
        #expect(
            DisclosureFloors.violations(of: loose).map(\.key) == [
                "threshold", "min_persons_for_mean", "max_noise", "noise_variance", "magnitude_noise", "dominance_k", "p_percent",
            ])
        #expect(DisclosureFloors.violations(of: loose).allSatisfy { $0.message.contains("DisclosureFloors.") })
    }
}
