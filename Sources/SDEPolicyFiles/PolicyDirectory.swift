import Foundation
public import SDEPolicy

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a policy directory from disk: the file I/O around the pure ``PolicySet/load(_:reference:)``.
///
/// ```swift
/// let policy = try PolicyDirectory.load(at: "Policies", reference: codes)
/// ```
public enum PolicyDirectory {
    /// The policy files under `directory`: top-level `*.yaml`/`*.yml` files and those in `projects/`, `queries/` and `root/`,
    /// named relative to `directory`. Hidden files and other files (such as `README.md`) are skipped. At most
    /// ``PolicyLimits/maxFileBytes`` + 1 bytes are read from each, so an oversized file is reported, not loaded; a
    /// policy file that is not a regular file (a FIFO, a device) is refused as `file:1`.
    public static func files(at directory: String) throws(PolicyError) -> [PolicySourceFile] {
        var files: [PolicySourceFile] = []
        for name in try entries(directory) {
            let path = directory + "/" + name
            if isDirectory(path) {
                guard [PolicySet.projectsDirectory, PolicySet.queriesDirectory, PolicyRoot.directory].contains(name) else { continue }
                for inner in try entries(path) where isYAML(inner) && !isDirectory(path + "/" + inner) {
                    files.append(PolicySourceFile(path: name + "/" + inner, bytes: try read(path + "/" + inner)))
                }
            } else if isYAML(name) {
                files.append(PolicySourceFile(path: name, bytes: try read(path)))
            }
        }
        guard files.count <= PolicyLimits.maxFiles else {
            throw .invalidPolicy([PolicyDiagnostic(file: directory, line: 1, message: "more than \(PolicyLimits.maxFiles) policy files")])
        }
        return files
    }

    /// Loads and validates the policy set in `directory`; diagnostics name files as `directory/relative-path`.
    public static func load(at directory: String, reference: ReferenceCodes) throws(PolicyError) -> PolicySet {
        let sources = try files(at: directory)
        do {
            return try PolicySet.load(sources, reference: reference)
        } catch {
            throw error.locating(in: directory)
        }
    }

    /// At most `limit` + 1 bytes of the regular file at `path` (or a symbolic link to one).
    ///
    /// Anything else (a FIFO, a device, a socket) is refused as `path:1`, without reading it: opening is non-blocking,
    /// so a FIFO nobody writes to cannot hang a reload, and the type is checked on the opened descriptor, so the file
    /// cannot be swapped between the check and the read.
    static func read(_ path: String, limit: Int = PolicyLimits.maxFileBytes) throws(PolicyError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path, "cannot open file") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        defer { try? handle.close() }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .unreadable(path, "cannot open file") }
        guard status.st_mode & S_IFMT == S_IFREG else {
            let message = "not a regular file (a FIFO, device or socket): only regular files are read"
            throw .invalidPolicy([PolicyDiagnostic(file: path, line: 1, message: message)])
        }
        do {
            return Array(try handle.read(upToCount: limit + 1) ?? Data())
        } catch {
            throw .unreadable(path, "cannot read file: \(error.localizedDescription)")
        }
    }

    private static func entries(_ directory: String) throws(PolicyError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw .unreadable(directory, "cannot list directory")
        }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    private static func isYAML(_ name: String) -> Bool { name.hasSuffix(".yaml") || name.hasSuffix(".yml") }
}
