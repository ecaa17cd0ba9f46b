import Crypto

/// The Merkle tree of the audit trail (RFC 6962 section 2.1, RFC 9162 section 2.1): leaf `i` is event `i + 1`'s
/// canonical JSONL line (without its newline), so a signed root of size `n` commits to the first `n` events exactly.
///
/// Only the right edge is kept: one root per perfect subtree, as many as there are one-bits in the size (at most 63),
/// which is all that is needed to append a leaf and compute the root. A checkpoint stores this edge, so the trail
/// continues the tree after a restart without reading every event again.
///
/// ```swift
/// var tree = AuditMerkleTree()
/// for line in lines { tree.append(leaf: line) }
/// tree.root   // the RFC 6962 Merkle tree hash of all the lines
/// ```
public struct AuditMerkleTree: Sendable, Hashable {
    /// How many leaves the tree has.
    public private(set) var size: Int64
    /// The roots of the perfect subtrees that make up the tree, largest (leftmost) first.
    public private(set) var edge: [AuditDigest]

    /// An empty tree.
    public init() {
        size = 0
        edge = []
    }

    /// A tree of `size` leaves given by its right edge (as a checkpoint stores it); throws unless `edge` has one
    /// root per one-bit of `size`.
    public init(size: Int64, edge: [AuditDigest]) throws(AuditError) {
        guard size >= 0, edge.count == size.nonzeroBitCount else {
            throw .invalidCheckpoint("a Merkle tree of \(size) leaves has \(max(0, size).nonzeroBitCount) edge roots, not \(edge.count)")
        }
        self.size = size
        self.edge = edge
    }

    /// Appends the leaf whose bytes are `leaf`.
    public mutating func append<Bytes: Collection>(leaf: Bytes) where Bytes.Element == UInt8 {
        append(leafHash: AuditMerkle.leafHash(leaf))
    }

    /// Appends a leaf by its hash (``AuditMerkle/leafHash(_:)``).
    public mutating func append(leafHash: AuditDigest) {
        var hash = leafHash
        var carry = size
        // Each trailing one-bit of the old size is a perfect subtree of the same height as `hash`: merge them.
        while carry & 1 == 1 {
            hash = AuditMerkle.nodeHash(edge.removeLast(), hash)
            carry >>= 1
        }
        edge.append(hash)
        size += 1
    }

    /// The Merkle tree hash of the leaves (SHA-256 of nothing for an empty tree).
    public var root: AuditDigest {
        guard var root = edge.last else { return AuditMerkle.emptyRoot }
        for node in edge.dropLast().reversed() { root = AuditMerkle.nodeHash(node, root) }
        return root
    }
}

/// RFC 6962 hashing, roots of whole leaf lists, and consistency proofs between two sizes of one tree.
///
/// A consistency proof shows that the tree of `newSize` leaves extends the tree of `oldSize` leaves: its first
/// `oldSize` leaves are unchanged. A witness that holds the old root checks the proof against the new root with
/// ``verifyConsistency(oldSize:oldRoot:newSize:newRoot:proof:)`` alone, without any leaf.
///
/// ```swift
/// let proof = try AuditMerkle.consistencyProof(from: 1000, leafHashes: hashesOfAllEvents)
/// AuditMerkle.verifyConsistency(oldSize: 1000, oldRoot: held.root, newSize: latest.size, newRoot: latest.root, proof: proof)
/// ```
public enum AuditMerkle {
    /// `SHA-256(0x00 || leaf)`.
    public static func leafHash<Bytes: Collection>(_ leaf: Bytes) -> AuditDigest where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        if leaf.withContiguousStorageIfAvailable({ hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }) == nil {
            hasher.update(data: Array(leaf))
        }
        return AuditDigest(hasher.finalize())
    }

    /// `SHA-256(0x01 || left || right)`.
    public static func nodeHash(_ left: AuditDigest, _ right: AuditDigest) -> AuditDigest {
        withUnsafeTemporaryAllocation(byteCount: 65, alignment: 8) { buffer in
            buffer[0] = 0x01
            left.writeBytes(into: buffer.baseAddress! + 1)
            right.writeBytes(into: buffer.baseAddress! + 33)
            var hasher = SHA256()
            hasher.update(bufferPointer: UnsafeRawBufferPointer(buffer))
            return AuditDigest(hasher.finalize())
        }
    }

    /// The root of the empty tree: SHA-256 of no bytes.
    public static let emptyRoot = AuditDigest(SHA256.hash(data: [UInt8]()))

    /// The Merkle tree hash of `leafHashes` (MTH in RFC 6962).
    public static func root(of leafHashes: ArraySlice<AuditDigest>) -> AuditDigest {
        switch leafHashes.count {
        case 0: return emptyRoot
        case 1: return leafHashes[leafHashes.startIndex]
        default:
            let k = largestPowerOfTwo(below: leafHashes.count)
            let middle = leafHashes.startIndex + k
            return nodeHash(root(of: leafHashes[..<middle]), root(of: leafHashes[middle...]))
        }
    }

    /// The proof that the tree of all `leafHashes` extends its first `oldSize` leaves (PROOF in RFC 6962 section
    /// 2.1.2); empty when `oldSize` is 0 or the whole tree. Throws unless `0 <= oldSize <= leafHashes.count`.
    public static func consistencyProof(from oldSize: Int, leafHashes: ArraySlice<AuditDigest>) throws(AuditError) -> [AuditDigest] {
        guard oldSize >= 0, oldSize <= leafHashes.count else {
            throw .inconsistentTree("no consistency proof from \(oldSize) leaves in a tree of \(leafHashes.count)")
        }
        guard oldSize > 0, oldSize < leafHashes.count else { return [] }
        var proof: [AuditDigest] = []
        subproof(oldSize, leafHashes, complete: true, into: &proof)
        return proof
    }

    /// SUBPROOF(m, D[n], b): the nodes that, with the old tree's own subtrees, rebuild both roots.
    private static func subproof(_ m: Int, _ leaves: ArraySlice<AuditDigest>, complete: Bool, into proof: inout [AuditDigest]) {
        let n = leaves.count
        if m == n {
            if !complete { proof.append(root(of: leaves)) }
            return
        }
        let k = largestPowerOfTwo(below: n)
        let middle = leaves.startIndex + k
        if m <= k {
            subproof(m, leaves[..<middle], complete: complete, into: &proof)
            proof.append(root(of: leaves[middle...]))
        } else {
            subproof(m - k, leaves[middle...], complete: false, into: &proof)
            proof.append(root(of: leaves[..<middle]))
        }
    }

    /// Whether `proof` shows that the tree of `newSize` leaves with root `newRoot` extends the tree of `oldSize`
    /// leaves with root `oldRoot` (the verification of RFC 9162 section 2.1.4.2).
    public static func verifyConsistency(oldSize: Int64, oldRoot: AuditDigest, newSize: Int64, newRoot: AuditDigest, proof: [AuditDigest]) -> Bool {
        guard oldSize >= 0, oldSize <= newSize else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        // Every tree extends the empty tree (and nothing else has that root).
        if oldSize == 0 { return proof.isEmpty && oldRoot == emptyRoot }
        var path = proof
        // When the old tree is a perfect subtree of the new one, its root is the first node of the path.
        if oldSize.nonzeroBitCount == 1 { path.insert(oldRoot, at: 0) }
        guard !path.isEmpty else { return false }
        var fn = oldSize - 1
        var sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0, fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == oldRoot && sr == newRoot && sn == 0
    }

    /// The largest power of two smaller than `n` (n > 1).
    private static func largestPowerOfTwo(below n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}
