#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program to completion with `posix_spawn` and `waitpid`.
///
/// Foundation's `Process` can hang on `pg_ctl start`, because the server daemon inherits the pipe it watches
/// (swift-corelibs-foundation #4795), and its `waitUntilExit` can miss a child's end while it blocks a thread of the
/// concurrency pool. Here standard input is `/dev/null`, output goes to a file, and the caller's thread waits.
public enum ChildProcess {
    /// Runs `executable` with `arguments`, appending its standard output and error to `logPath`.
    /// - Returns: the exit status (128 + signal number when killed by a signal).
    public static func run(_ executable: String, _ arguments: [String], logPath: String) throws(DevClusterError) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o640)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw .processFailed("cannot start \(executable) (errno \(spawned))") }

        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw .processFailed("waiting for \(executable) failed (errno \(errno))") }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros that Swift does not import.
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
