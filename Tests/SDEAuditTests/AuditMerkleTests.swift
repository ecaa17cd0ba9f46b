import SDEAudit
import SDECommon
import Testing

@Suite struct AuditMerkleTests {
    /// A brute-force RFC 6962 Merkle tree hash, written from the RFC's definition with nothing of `AuditMerkle`.
    static func bruteForceRoot(_ leaves: ArraySlice<[UInt8]>) -> AuditDigest {
        switch leaves.count {
        case 0: return AuditDigest.sha256(of: [UInt8]())
        case 1: return AuditDigest.sha256(of: [0x00] + leaves[leaves.startIndex])
        default:
            var k = 1
            while k * 2 < leaves.count { k *= 2 }
            let left = bruteForceRoot(leaves.prefix(k)), right = bruteForceRoot(leaves.dropFirst(k))
            return AuditDigest.sha256(of: [0x01] + left.bytes + right.bytes)
        }
    }

    static func leaves(_ count: Int) -> [[UInt8]] { (0..<count).map { Array("leaf \($0) {\"sequence\":\($0 + 1)}".utf8) } }

    static func digest(base64 text: String) -> AuditDigest { AuditDigest(bytes: decodeBase64(text))! }

    /// Test data of transparency-dev/merkle (`testonly/constants.go`, `testdata/consistency/*/happy-path.json`):
    /// eight leaves, the roots of the trees of their first 0 to 8, and proofs between some sizes.
    static let vectorLeaves: [[UInt8]] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
        .map { Hex.decode($0)! }
    static let vectorRoots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125", "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7", "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef", "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    @Test func rootsMatchThePublishedTestVectors() throws {
        var tree = AuditMerkleTree()
        #expect(tree.root.hex == Self.vectorRoots[0])
        for (i, leaf) in Self.vectorLeaves.enumerated() {
            tree.append(leaf: leaf)
            #expect(tree.root.hex == Self.vectorRoots[i + 1], "size \(i + 1)")
            #expect(AuditMerkle.root(of: Self.vectorLeaves[...i].map(AuditMerkle.leafHash)[...]).hex == Self.vectorRoots[i + 1])
        }
        #expect(AuditMerkle.emptyRoot.hex == Self.vectorRoots[0])
    }

    @Test(arguments: [
        (
            1, 8,
            [
                "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
                "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
            ]
        ),
        (
            6, 8,
            [
                "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
                "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
            ]
        ),
        (2, 5, ["Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="]),
        (
            6, 7,
            [
                "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=",
                "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
            ]
        ),
    ])
    func consistencyProofsMatchThePublishedTestVectors(old: Int, new: Int, expected: [String]) throws {
        let hashes = Self.vectorLeaves.map(AuditMerkle.leafHash)
        let proof = try AuditMerkle.consistencyProof(from: old, leafHashes: hashes[..<new])
        #expect(proof == expected.map(Self.digest(base64:)))
        let oldRoot = AuditDigest(hex: Self.vectorRoots[old])!, newRoot = AuditDigest(hex: Self.vectorRoots[new])!
        #expect(AuditMerkle.verifyConsistency(oldSize: Int64(old), oldRoot: oldRoot, newSize: Int64(new), newRoot: newRoot, proof: proof))
    }

    @Test func theIncrementalTreeAgreesWithBruteForceAtEverySize() throws {
        let leaves = Self.leaves(130)
        var tree = AuditMerkleTree()
        for n in 0...leaves.count {
            #expect(tree.root == Self.bruteForceRoot(leaves[..<n]), "size \(n)")
            #expect(tree.edge.count == n.nonzeroBitCount)
            // The edge alone (as a checkpoint stores it) continues the same tree.
            #expect(try AuditMerkleTree(size: tree.size, edge: tree.edge) == tree)
            if n < leaves.count { tree.append(leaf: leaves[n]) }
        }
    }

    /// Every pair of sizes up to 48 (and some up to 1,000): the proof verifies against roots computed by brute force,
    /// and fails when any node of it or either root is changed, when it is cut short or extended, and (up to 24 leaves)
    /// when one leaf of the old tree is changed.
    @Test func consistencyProofsVerifyAgainstBruteForceRootsForManySizes() throws {
        let leaves = Self.leaves(1000)
        let hashes = leaves.map(AuditMerkle.leafHash)
        var pairs: [(Int, Int)] = []
        for n in 0...48 { for m in 0...n { pairs.append((m, n)) } }
        pairs += [(1, 1000), (511, 512), (513, 1000), (999, 1000)]
        var roots: [Int: AuditDigest] = [:]
        func root(_ n: Int) -> AuditDigest {
            if let known = roots[n] { return known }
            let computed = Self.bruteForceRoot(leaves[..<n])
            roots[n] = computed
            return computed
        }
        for (m, n) in pairs {
            let proof = try AuditMerkle.consistencyProof(from: m, leafHashes: hashes[..<n])
            let oldRoot = root(m), newRoot = root(n)
            func verifies(_ proof: [AuditDigest], old: AuditDigest = oldRoot, new: AuditDigest = newRoot) -> Bool {
                AuditMerkle.verifyConsistency(oldSize: Int64(m), oldRoot: old, newSize: Int64(n), newRoot: new, proof: proof)
            }
            #expect(verifies(proof), "\(m) -> \(n)")
            guard m > 0, m < n else {
                #expect(proof.isEmpty)
                continue
            }
            #expect(!verifies(proof, old: newRoot, new: oldRoot), "roots swapped: \(m) -> \(n)")
            #expect(!verifies(proof, old: root(m - 1)), "another old root: \(m) -> \(n)")
            #expect(!verifies(proof, new: root(n - 1)), "another new root: \(m) -> \(n)")
            for i in proof.indices {
                var altered = proof
                altered[i] = AuditDigest.sha256(of: altered[i].bytes)
                #expect(!verifies(altered), "node \(i) altered: \(m) -> \(n)")
            }
            #expect(!verifies(Array(proof.dropLast())), "truncated: \(m) -> \(n)")
            #expect(!verifies(proof + [newRoot]), "extended: \(m) -> \(n)")
            if n <= 24 {
                var changed = leaves
                changed[m - 1][0] ^= 0x01
                #expect(!verifies(proof, old: Self.bruteForceRoot(changed[..<m])), "old tree changed: \(m) -> \(n)")
                #expect(!verifies(proof, new: Self.bruteForceRoot(changed[..<n])), "new tree changed: \(m) -> \(n)")
            }
        }
    }

    @Test func impossibleProofsAreRefused() {
        let hashes = Self.leaves(5).map(AuditMerkle.leafHash)
        #expect(throws: AuditError.self) { try AuditMerkle.consistencyProof(from: 6, leafHashes: hashes[...]) }
        #expect(throws: AuditError.self) { try AuditMerkle.consistencyProof(from: -1, leafHashes: hashes[...]) }
        let root = AuditMerkle.root(of: hashes[...])
        #expect(!AuditMerkle.verifyConsistency(oldSize: 5, oldRoot: root, newSize: 4, newRoot: root, proof: []))
        #expect(!AuditMerkle.verifyConsistency(oldSize: 0, oldRoot: root, newSize: 5, newRoot: root, proof: []))
        #expect(AuditMerkle.verifyConsistency(oldSize: 0, oldRoot: AuditMerkle.emptyRoot, newSize: 5, newRoot: root, proof: []))
        #expect(throws: AuditError.self) { try AuditMerkleTree(size: 5, edge: [root]) }
    }
}

/// Standard base64, for test data (the library's own decoder is not public).
func decodeBase64(_ text: String) -> [UInt8] {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var bits: UInt32 = 0, count = 0
    var out: [UInt8] = []
    for c in text.utf8 where c != UInt8(ascii: "=") {
        bits = bits << 6 | UInt32(alphabet.firstIndex(of: c)!)
        count += 6
        if count >= 8 {
            count -= 8
            out.append(UInt8(truncatingIfNeeded: bits >> UInt32(count)))
        }
    }
    return out
}
