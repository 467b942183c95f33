import Foundation
import Testing

/// `peregrine serve` as a process: it prints where it listens, answers with curl as the
/// client, and exits 0 on SIGTERM after finishing the requests in flight.
@Suite struct ServeTests {
    /// A `peregrine serve` process, its base URL and the file its stderr goes to.
    struct Server {
        let process: Process
        let url: String
        let log: String

        /// The last lines the server wrote to stderr (for failure messages).
        var stderr: String {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return "server stderr: " + String(text.suffix(1500)) + " (exit \(process.isRunning ? "running" : String(process.terminationStatus)))"
        }
    }

    /// Starts the server on a free port; returns the process and its base URL.
    func startServer(_ extra: [String] = [], model: String = CLITests.fixtures + "/models/tiny-llama") throws -> Server {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.binary)
        process.arguments = ["serve", "--model", model, "--port", "0", "--threads", "2"] + extra
        let out = Pipe()
        process.standardOutput = out
        // The server's stderr goes to a file, so a failing test can say what the server said.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-serve-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        var line = Data()
        let deadline = Date().addingTimeInterval(180)
        // "listening at ...; loading", then "serving NAME (...) at URL/v1" once the model is ready.
        while !String(decoding: line, as: UTF8.self).contains("serving") && Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let serving = text.range(of: "serving"), let range = text[serving.upperBound...].range(of: "http://") else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "no address in \(text)"])
        }
        let url = text[range.lowerBound...].split(separator: "\n")[0].replacingOccurrences(of: "/v1", with: "")
        return Server(process: process, url: url, log: log.path)
    }

    func curl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-s"] + (arguments.contains("--max-time") ? [] : ["--max-time", "30"]) + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func servesAndShutsDownGracefully() async throws {
        let started = try startServer(["--served-model-name", "tiny"])
        let (server, url) = (started.process, started.url)
        defer { if server.isRunning { server.terminate() } }
        #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", url + "/health"]) == "200")
        let whole = try curl([url + "/v1/completions", "-d", #"{"model": "tiny", "prompt": "Hello", "max_tokens": 5, "temperature": 0}"#])
        #expect(whole.contains(#""object":"text_completion""#) && whole.contains(#""completion_tokens":5"#), "\(whole)")
        let metrics = try curl([url + "/metrics"])
        #expect(metrics.contains("peregrine_generation_tokens_total") && metrics.contains("peregrine_time_to_first_token_seconds"), "\(metrics.prefix(500))")
        #expect(metrics.contains("hb_requests") || metrics.contains("http_server_request_duration"), "HTTP metrics")
        // Streams in flight when SIGTERM arrives still complete.
        let streams = (0..<4).map { _ in
            Task.detached { try self.curl(["-N", url + "/v1/completions", "-d", #"{"prompt": [0, 1, 2], "max_tokens": 100, "stream": true, "ignore_eos": true}"#]) }
        }
        try await Task.sleep(nanoseconds: 50_000_000)
        kill(server.processIdentifier, SIGTERM)
        for stream in streams {
            let body = try await stream.value
            // Either finished before the signal or during the graceful shutdown; never cut off.
            #expect(body.isEmpty || body.hasSuffix("data: [DONE]\n\n"), "\(body.suffix(200))")
        }
        let deadline = Date().addingTimeInterval(60)
        while server.isRunning && Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
        #expect(!server.isRunning && server.terminationStatus == 0, "\(started.stderr)")
    }

    /// The value of a Prometheus sample (first series whose line starts with `name`).
    func metric(_ name: String, _ url: String) throws -> Double? {
        let lines = try curl([url + "/metrics"]).split(separator: "\n")
        return lines.first { $0.hasPrefix(name) }.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }

    /// Clients that leave mid-generation (streaming or not) abort their requests: the running
    /// count and the KV blocks in use drop to zero long before 3000 tokens could be generated,
    /// and both are counted. Then SIGTERM under load: streams in flight finish, new connections
    /// are refused (or answered 503), and the process exits 0.
    @Test func disconnectsAbortAndShutdownDrainsUnderLoad() async throws {
        // A long graceful shutdown: on a loaded CI machine the streams in flight may take a while.
        let started = try startServer(["--shutdown-timeout", "300"], model: CLITests.defaultModel)
        let (server, url) = (started.process, started.url)
        defer { if server.isRunning { server.terminate() } }
        let long = #"{"prompt": "Once upon a time", "max_tokens": 3000, "ignore_eos": true"#
        async let streamed = Task.detached { try self.curl(["-N", "--max-time", "4", url + "/v1/completions", "-d", long + #", "stream": true}"#]) }.value
        async let whole = Task.detached { try self.curl(["--max-time", "4", url + "/v1/chat/completions",
                                                         "-d", #"{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3000, "ignore_eos": true}"#]) }.value
        let (partial, nothing) = try await (streamed, whole)
        // On a loaded machine the stream may not have produced a token within 4 s: then it is empty.
        #expect((partial.isEmpty || partial.hasPrefix("data: ")) && !partial.contains("[DONE]"), "\(partial.prefix(200)) \(started.stderr)")
        #expect(nothing.isEmpty)
        var disconnects: Double?, running: Double?, blocks: Double?
        for _ in 0..<600 {
            disconnects = try metric("peregrine_client_disconnects_total", url)
            running = try metric("peregrine_num_requests_running", url)
            blocks = try metric("peregrine_kv_cache_blocks_used", url)
            if disconnects == 2 && running == 0 && blocks == 0 { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(disconnects == 2 && running == 0 && blocks == 0, "\(started.stderr) disconnects \(String(describing: disconnects)), running \(String(describing: running)), blocks \(String(describing: blocks))")

        let streams = (0..<3).map { _ in
            Task.detached { try self.curl(["-N", "--max-time", "300", url + "/v1/completions", "-d", #"{"prompt": "Hello", "max_tokens": 60, "ignore_eos": true, "stream": true}"#]) }
        }
        // SIGTERM once all three are running (on a loaded machine the clients may take a while to connect).
        for _ in 0..<1200 {
            if try metric("peregrine_num_requests_running", url) ?? 0 >= 3 { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        kill(server.processIdentifier, SIGTERM)
        try await Task.sleep(nanoseconds: 200_000_000)
        let late = try curl(["-o", "/dev/null", "-w", "%{http_code}", url + "/health"])
        #expect(late == "000" || late == "503", "a request after SIGTERM got \(late)")
        for stream in streams {
            let body = try await stream.value
            #expect(body.hasPrefix("data: ") && body.hasSuffix("data: [DONE]\n\n"), "\(body.suffix(200)) \(started.stderr)")
        }
        let deadline = Date().addingTimeInterval(60)
        while server.isRunning && Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
        #expect(!server.isRunning && server.terminationStatus == 0)
    }

    /// `bench serve` against our own server for a few seconds writes a complete result file,
    /// `bench plot` draws it, and bad flags are refused with a message.
    @Test func benchServeWritesAResultAndPlots() async throws {
        let started = try startServer(["--served-model-name", "tiny"])
        let (server, url) = (started.process, started.url)
        defer { if server.isRunning { server.terminate() } }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cli = CLITests()
        var files: [String] = []
        for (index, rate) in ["20", "inf"].enumerated() {
            let file = directory.appendingPathComponent("r\(index).json").path
            let run = try cli.peregrine(["bench", "serve", "--base-url", url, "--num-prompts", "24", "--request-rate", rate,
                                         "--max-concurrency", "8", "--seed", String(index),
                                         "--prompt-format", "ids", "--vocab-size", "512", "--random-input-len", "16", "--random-output-len", "8",
                                         "--ignore-eos", "--slo", "ttft=5000,tpot=1000", "--result-file", file])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("request throughput") && run.stdout.contains("TTFT"), "\(run.stdout)")
            let result = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
            #expect(result["model"] as? String == "tiny" && result["num_prompts"] as? Int == 24)
            #expect(result["completed"] as? Int == 24 && result["failed"] as? Int == 0, "\(result["errors"] ?? "")")
            for key in ["request_throughput", "output_throughput", "total_token_throughput", "request_goodput", "duration"] {
                #expect((result[key] as? Double ?? 0) > 0, "\(key)")
            }
            for key in ["ttft_ms", "tpot_ms", "itl_ms", "e2el_ms"] {
                let stats = try #require(result[key] as? [String: Double], "\(key)")
                #expect(Set(stats.keys) == ["mean", "median", "std", "p90", "p99"] && stats["median"]! > 0)
            }
            #expect((result["output_lens"] as? [Int])?.count == 24)
            files.append(file)
        }
        let svg = directory.appendingPathComponent("plot.svg").path
        let plot = try cli.peregrine(["bench", "plot"] + files + ["--output", svg, "--metric", "tpot", "--stat", "p99"])
        #expect(plot.status == 0, "\(plot.stderr)")
        #expect(try String(contentsOfFile: svg, encoding: .utf8).contains("<polyline"))
        for bad in [["--request-rate", "-1"], ["--slo", "fast"], ["--prompt-format", "ids"], ["--endpoint", "embeddings"]] {
            let run = try cli.peregrine(["bench", "serve", "--base-url", url] + bad)
            #expect(run.status != 0 && run.stderr.contains("Error"), "\(bad): \(run.stderr)")
        }
        let unreachable = try cli.peregrine(["bench", "serve", "--base-url", "http://127.0.0.1:1", "--num-prompts", "1"])
        #expect(unreachable.status != 0 && unreachable.stderr.contains("cannot reach"), "\(unreachable.stderr)")
    }
}
