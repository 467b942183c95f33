import Foundation
import Testing

/// `peregrine serve` as a process: it prints where it listens, answers with curl as the
/// client, and exits 0 on SIGTERM after finishing the requests in flight.
@Suite struct ServeTests {
    /// Starts the server on a free port; returns the process and its base URL.
    func startServer(_ extra: [String] = []) throws -> (Process, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.binary)
        process.arguments = ["serve", "--model", CLITests.fixtures + "/models/tiny-llama", "--port", "0", "--threads", "2"] + extra
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        let deadline = Date().addingTimeInterval(60)
        while !line.contains(UInt8(ascii: "\n")) && Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: "http://") else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "no address in \(text)"])
        }
        let url = text[range.lowerBound...].split(separator: "\n")[0].replacingOccurrences(of: "/v1", with: "")
        return (process, url)
    }

    func curl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-s", "--max-time", "30"] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func servesAndShutsDownGracefully() async throws {
        let (server, url) = try startServer(["--served-model-name", "tiny"])
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
        let deadline = Date().addingTimeInterval(20)
        while server.isRunning && Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
        #expect(!server.isRunning && server.terminationStatus == 0)
    }
}
