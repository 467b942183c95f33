import Foundation
import Testing

/// `peregrine` as a user runs it: output format, exit codes, and one-line errors for bad input.
@Suite struct CLITests {
    static let fixtures: String = {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return ProcessInfo.processInfo.environment["PEREGRINE_FIXTURES"]
            ?? repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path
    }()

    /// The binary built beside this test bundle.
    static let binary: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("peregrine").path), directory.path != "/" {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("peregrine").path
    }()

    struct Run { var status: Int32; var stdout: String; var stderr: String }

    func peregrine(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    struct Golden: Decodable {
        struct Case: Decodable { let input_ids: [Int]; let greedy: [Int] }
        let cases: [String: Case]
    }

    @Test func generatePrintsTheGreedyIds() throws {
        let model = Self.fixtures + "/models/tiny-qwen2"
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: URL(fileURLWithPath: model + "/golden.json"))).cases["len7"]!
        let ids = golden.input_ids.map(String.init).joined(separator: ",")
        let plain = try peregrine(["generate", "--model", model, "--prompt-ids", ids, "--max-tokens", "24", "--ignore-eos", "--threads", "2"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } == golden.greedy)

        let json = try peregrine(["generate", "--model", model, "--prompt-ids", ids, "--max-tokens", "24", "--ignore-eos", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        #expect(object["tokens"] as? [Int] == golden.greedy)
        #expect(object["finish_reason"] as? String == "length")
        #expect(object["prompt_tokens"] as? Int == golden.input_ids.count)
    }

    @Test func generateStopsAtEOS() throws {
        // tiny models' EOS is id 1; with it as the prompt's only continuation the run may stop
        // early, and the output never continues past an EOS.
        let run = try peregrine(["generate", "--model", Self.fixtures + "/models/tiny-llama", "--prompt-ids", "0,44,73", "--max-tokens", "200", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        let tokens = object["tokens"] as! [Int]
        if let eos = tokens.firstIndex(of: 1) {
            #expect(eos == tokens.count - 1 && object["finish_reason"] as? String == "stop")
        } else {
            #expect(tokens.count == 200 && object["finish_reason"] as? String == "length")
        }
    }

    @Test(arguments: [
        (["generate", "--model", "/nonexistent", "--prompt-ids", "1"], "/nonexistent"),
        (["generate", "--model", "MODEL", "--prompt-ids", "1,x,3"], "\"x\" is not a token id"),
        (["generate", "--model", "MODEL", "--prompt-ids", ""], "--prompt-ids"),
        (["generate", "--model", "MODEL", "--prompt-ids", "1,999999"], "999999"),
        (["generate", "--model", "MODEL", "--prompt-ids", "1", "--max-tokens", "-2"], "--max-tokens"),
        (["generate", "--model", "MODEL", "--prompt-ids", "1", "--max-tokens", "300"], "context of 256"),
        (["generate", "--model", "MODEL", "--prompt-ids", "1", "--threads", "0"], "--threads"),
        (["generate", "--model", "MODEL", "--prompt-ids", "1", "--cpu-isa", "sse9"], "--cpu-isa"),
        (["info", "--model", "/nonexistent"], "/nonexistent"),
        (["bench", "model", "--preset", "gpt-5"], "gpt-5"),
        (["bench", "engine", "--model", "MODEL", "--temperature", "-1"], "--temperature"),
        (["bench", "engine", "--model", "MODEL", "--top-p", "1.5"], "--top-p"),
        (["bench", "linear", "--tokens", "0,64"], "--tokens"),
        (["bench", "linear", "--tokens", "1,x"], "--tokens"),
        (["bench", "linear", "--calls", "0"], "--calls"),
        (["bench", "linear", "--device", "cpu"], "bench linear measures the CUDA backend"),
        (["generate", "--model", "MODEL", "--prompt", "hi", "--prompt-ids", "1"], "exactly one of --prompt, --chat and --prompt-ids"),
        (["tokenize", "--model", "MODEL"], "exactly one of --text and --file"),
        (["tokenize", "--model", "MODEL", "--decode", "--text", "1,99999"], "99999"),
        (["tokenize", "--model", "/nonexistent/tokenizer.json", "--text", "hi"], "/nonexistent/tokenizer.json"),
    ])
    func badInputGivesAClearError(arguments: [String], mentions: String) throws {
        let model = Self.fixtures + "/models/tiny-llama"
        let run = try peregrine(arguments.map { $0 == "MODEL" ? model : $0 })
        #expect(run.status != 0)
        #expect(run.stderr.contains(mentions), "stderr: \(run.stderr)")
        #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("Crash"))
    }

    /// Fetched with the project's script, as the binary would on first use.
    static let defaultModel: String = {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repo.appendingPathComponent("Sources/peregrine/Resources/fetch_default_model.py").path]
        let output = Pipe()
        process.standardOutput = output
        try! process.run()
        let path = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        return path
    }()

    /// Without --model the default model (SmolLM2-135M-Instruct Q4_1) answers; its greedy
    /// continuation of "The capital of France is" matches transformers' golden.
    @Test func generateUsesTheDefaultModel() throws {
        _ = Self.defaultModel
        let run = try peregrine(["generate", "--prompt-ids", "504,3575,282,4649,314", "--max-tokens", "32", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        #expect(object["tokens"] as? [Int] == [7042, 30, 198, 198, 504, 2988, 314, 42, 216, 34, 32, 33, 40, 29, 32, 33, 29, 34, 34, 216, 33, 34, 42, 33, 34, 42, 37, 35, 30, 2])
        #expect(object["finish_reason"] as? String == "stop")
        let info = try peregrine(["info"])
        #expect(info.stdout.contains("Q4_1") && info.stdout.contains("GGUF version 3"), "\(info.stdout)")
    }

    /// Text in, text out with the default model's tokenizer; tokenize and decode round-trip.
    @Test func textPromptsAndTokenize() throws {
        _ = Self.defaultModel
        let run = try peregrine(["generate", "--prompt", "The capital of France is", "--max-tokens", "32"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == " Paris.\n\nThe answer is: 2018-01-22 12:12:53.\n")   // transformers' greedy text
        let ids = try peregrine(["tokenize", "--text", "The capital of France is"])
        #expect(ids.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "504 3575 282 4649 314")
        let text = try peregrine(["tokenize", "--decode", "--text", "504,3575,282,4649,314"])
        #expect(text.stdout == "The capital of France is\n")
        let json = try peregrine(["tokenize", "--model", Self.fixtures + "/tokenizers/llama-spm", "--text", " Hello", "--json"])
        #expect(json.stdout.contains("\"ids\":[29871,15043]"), "\(json.stdout)")
    }

    /// --chat renders the model's template; `template` prints the exact prompt, with
    /// --chat-template overriding the model's.
    @Test func chatAndTemplate() throws {
        _ = Self.defaultModel
        let chat = try peregrine(["generate", "--chat", "What is the capital of France?", "--max-tokens", "20"])
        #expect(chat.status == 0 && chat.stdout.contains("Paris"), "\(chat.stdout) \(chat.stderr)")
        let directory = NSTemporaryDirectory() + "peregrine-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(#"[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]"#.utf8).write(to: URL(fileURLWithPath: directory + "/m.json"))
        let rendered = try peregrine(["template", "--messages", directory + "/m.json", "--add-generation-prompt"])
        #expect(rendered.stdout == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        try Data("{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}".utf8).write(to: URL(fileURLWithPath: directory + "/t.jinja"))
        let custom = try peregrine(["template", "--messages", directory + "/m.json", "--chat-template", directory + "/t.jinja"])
        #expect(custom.stdout == "[system]Be brief.[user]Hi")
        try Data("{% if %}".utf8).write(to: URL(fileURLWithPath: directory + "/bad.jinja"))
        let bad = try peregrine(["template", "--messages", directory + "/m.json", "--chat-template", directory + "/bad.jinja"])
        #expect(bad.status != 0 && bad.stderr.contains("line 1"), "\(bad.stderr)")
        try Data("[{".utf8).write(to: URL(fileURLWithPath: directory + "/broken.json"))
        let broken = try peregrine(["template", "--messages", directory + "/broken.json"])
        #expect(broken.status != 0 && broken.stderr.contains("broken.json"), "\(broken.stderr)")
    }

    @Test func infoDescribesTheModel() throws {
        let run = try peregrine(["info", "--model", Self.fixtures + "/models/tiny-mixtral"])
        #expect(run.status == 0, "\(run.stderr)")
        for expected in ["MixtralForCausalLM", "4 experts of 128, top 2", "weights BF16", "KV cache"] {
            #expect(run.stdout.contains(expected), "\(run.stdout)")
        }
    }
}
