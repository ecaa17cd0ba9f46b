public import SDEStore
import Crypto
import Foundation
public import Logging
import PostgresNIO
import SDECommon

#if canImport(Glibc)
import Glibc
#endif

/// A local PostgreSQL cluster the broker manages itself (`initdb` + `pg_ctl`), for the quickstart, development and tests.
///
/// The cluster lives in one directory (`.sde/` by default): data in `pgdata/`, server log in `postgres.log`, and
/// `postgres.json` (mode 0600) with the port and the generated administrator password. It listens on 127.0.0.1
/// only, with password (SCRAM) authentication, on the port it recorded at its first start, kept across restarts and
/// crashes so that clients reconnect by themselves (another free port only when something else took that one). When the broker runs as root,
/// the programs run as the `postgres` user, because PostgreSQL refuses to run as root; and when that user cannot enter
/// the directory (a checkout under `/root`, mode 0700), the server's own files (`pgdata/`, `postgres.log`) live in a
/// directory of their own that it owns, mode 0700, under its home (``serverDirectory``); `postgres.json` stays here.
///
/// ```swift
/// let cluster = EmbeddedPostgres(directory: ".sde")
/// let config = try await cluster.start(logger: logger)   // initialises on first use
/// // ... use config ...
/// try cluster.stop()
/// ```
public struct EmbeddedPostgres: Sendable {
    /// The state of the cluster.
    public enum Status: Sendable, Equatable {
        case notInitialised
        case stopped
        case running(port: Int)
    }

    /// The directory that holds the cluster.
    public let directory: String
    /// The name of the database the broker uses inside the cluster.
    public let databaseName: String

    /// Where the server's data directory and log are: ``directory``, or, when the broker runs as root and the
    /// `postgres` user cannot enter ``directory``, `<postgres's home>/sde-broker/<first 16 hex digits of the SHA-256 of
    /// directory>` (an existing cluster stays where it was initialised).
    public let serverDirectory: String

    static let adminUser = "sde_admin"

    /// A cluster under `directory` (created on first start).
    public init(directory: String, databaseName: String = "sde") {
        self.directory = URL(fileURLWithPath: directory).standardizedFileURL.path
        self.databaseName = databaseName
        self.serverDirectory = ServerUser.directory(for: self.directory)
    }

    private var dataDirectory: String { serverDirectory + "/pgdata" }
    private var logPath: String { serverDirectory + "/postgres.log" }
    private var statePath: String { directory + "/postgres.json" }

    private struct State: Codable {
        var port: Int
        var password: String
    }

    /// Initialises the cluster if needed, starts it if stopped, creates the broker's database, and returns how to connect.
    @discardableResult
    public func start(logger: Logger) async throws -> DatabaseConfig {
        let programs = try PostgresPrograms.locate()
        if !FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") {
            try initialise(programs)
        }
        var state = try readState()
        if case .running = try status() {
            return config(state)
        }
        // The recorded port again when it is free, so that a running `serve` (whose pool reconnects to the same
        // address) finds the cluster after a restart or a crash; another only when something else took it.
        if state.port == 0 || !Self.isFreeLoopbackPort(state.port) {
            state.port = try Self.freeLoopbackPort()
            try writeState(state)
        }
        let code = try runAsOwner(
            programs.pgCtl,
            ["start", "-w", "-t", "60", "-D", dataDirectory, "-l", logPath, "-o", "-p \(state.port)"]
        )
        guard code == 0 else { throw DevClusterError.processFailed("pg_ctl start failed (exit \(code)); see \(logPath)") }
        try await createDatabaseIfMissing(state, logger: logger)
        return config(state)
    }

    /// Stops the cluster (fast shutdown: open transactions roll back). Stopping a stopped cluster does nothing.
    public func stop() throws(DevClusterError) {
        guard case .running = try status() else { return }
        let programs = try PostgresPrograms.locate()
        let code = try runAsOwner(programs.pgCtl, ["stop", "-w", "-m", "fast", "-D", dataDirectory])
        guard code == 0 else { throw .processFailed("pg_ctl stop failed (exit \(code)); see \(logPath)") }
    }

    /// Whether the cluster exists and runs.
    public func status() throws(DevClusterError) -> Status {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") else { return .notInitialised }
        let programs = try PostgresPrograms.locate()
        let code = try runAsOwner(programs.pgCtl, ["status", "-D", dataDirectory])
        guard code == 0 else { return .stopped }
        return .running(port: try readState().port)
    }

    /// One line for the operator when the server's files are not under ``directory`` (see ``serverDirectory``).
    public var serverDirectoryNote: String? {
        serverDirectory == directory
            ? nil : "the postgres user cannot enter \(directory), so the cluster's data are in \(serverDirectory) (owned by postgres, mode 0700)"
    }

    /// How to connect to the running cluster.
    public func connectionConfig() throws(DevClusterError) -> DatabaseConfig {
        guard case .running = try status() else {
            throw .notRunning("the embedded PostgreSQL under \(directory) is not running: run `sde-broker db start`")
        }
        return config(try readState())
    }

    /// Stops the cluster and deletes its directories: for throwaway clusters in tests.
    public func destroy() throws(DevClusterError) {
        try? stop()
        for path in Set([directory, serverDirectory]) where FileManager.default.fileExists(atPath: path) {
            do { try FileManager.default.removeItem(atPath: path) } catch { throw .io("cannot remove \(path)") }
        }
    }

    private func config(_ state: State) -> DatabaseConfig {
        DatabaseConfig(host: "127.0.0.1", port: state.port, username: Self.adminUser, password: state.password, database: databaseName)
    }

    private func initialise(_ programs: PostgresPrograms) throws(DevClusterError) {
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch { throw .io("cannot create \(dataDirectory)") }
        let password = Hex.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
        let passwordFile = serverDirectory + "/initdb.pw"
        guard fm.createFile(atPath: passwordFile, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw .io("cannot write \(passwordFile)")
        }
        defer { try? fm.removeItem(atPath: passwordFile) }
        try handToServerUser(ServerUser.ownedDirectories(serverDirectory, stateDirectory: directory) + [dataDirectory, passwordFile])
        let code = try runAsOwner(
            programs.initdb,
            ["-D", dataDirectory, "-U", Self.adminUser, "--pwfile=\(passwordFile)", "--auth=scram-sha-256", "-E", "UTF8", "--no-locale"]
        )
        guard code == 0 else { throw .processFailed("initdb failed (exit \(code)); see \(logPath)") }
        let settings = """

            # Added by sde-broker: loopback only, no Unix socket outside the cluster directory.
            listen_addresses = '127.0.0.1'
            unix_socket_directories = ''
            password_encryption = 'scram-sha-256'
            max_connections = 300
            shared_buffers = '512MB'
            max_wal_size = '4GB'
            work_mem = '64MB'
            maintenance_work_mem = '256MB'

            """
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDirectory + "/postgresql.conf"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(settings.utf8))
            try handle.close()
        } catch { throw .io("cannot configure \(dataDirectory)/postgresql.conf") }
        try writeState(State(port: 0, password: password))
    }

    private func createDatabaseIfMissing(_ state: State, logger: Logger) async throws {
        // CREATE DATABASE cannot run in a transaction or be parameterised; the name is our own constant-like value.
        guard Identifier.isSQLName(databaseName) else {
            throw DevClusterError.invalidName("database name must be a plain lower-case SQL identifier ([a-z_][a-z0-9_]*)")
        }
        let admin = DatabaseConfig(host: "127.0.0.1", port: state.port, username: Self.adminUser, password: state.password, database: "postgres")
        let name = databaseName
        try await DatabaseSession.with(admin, logger: logger) { db in
            let rows = try await db.query("SELECT 1 FROM pg_database WHERE datname = \(name)", "look up database")
            var exists = false
            for try await _ in rows { exists = true }
            if !exists { try await db.execute(unsafeSQL: "CREATE DATABASE \(name)", "create database") }
        }
    }

    private func readState() throws(DevClusterError) -> State {
        guard let data = FileManager.default.contents(atPath: statePath), let state = try? JSONDecoder().decode(State.self, from: data) else {
            throw .io("cannot read \(statePath): remove \(directory) to start afresh")
        }
        return state
    }

    private func writeState(_ state: State) throws(DevClusterError) {
        guard let data = try? JSONEncoder().encode(state),
            FileManager.default.createFile(atPath: statePath, contents: data, attributes: [.posixPermissions: 0o600])
        else { throw .io("cannot write \(statePath)") }
    }

    /// Runs a PostgreSQL program as the cluster's owner: ourselves, or `postgres` when we are root.
    private func runAsOwner(_ program: String, _ arguments: [String]) throws(DevClusterError) -> Int32 {
        guard geteuid() == 0 else { return try ChildProcess.run(program, arguments, logPath: logPath) }
        try handToServerUser([logPath])
        return try ServerUser.run(program, arguments, logPath: logPath)
    }

    /// When root, gives `paths` to the `postgres` user (PostgreSQL must own its files).
    private func handToServerUser(_ paths: [String]) throws(DevClusterError) {
        guard geteuid() == 0 else { return }
        guard let pw = getpwnam("postgres") else { throw .processFailed("running as root needs a postgres user to own the cluster") }
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        for path in paths { _ = chown(path, pw.pointee.pw_uid, pw.pointee.pw_gid) }
    }

    /// Whether PostgreSQL could listen on `port` of 127.0.0.1 now: a bind with `SO_REUSEADDR`, as PostgreSQL's own,
    /// so a port whose old connections linger in TIME_WAIT after a stop still counts as free.
    static func isFreeLoopbackPort(_ port: Int) -> Bool {
        guard (1...65535).contains(port) else { return false }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A TCP port on 127.0.0.1 that nothing listens on right now.
    static func freeLoopbackPort() throws(DevClusterError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .io("cannot open a socket to find a free port") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw .io("cannot find a free loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
