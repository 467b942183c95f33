import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import LMEngine
import LMModels
import LMTensor
import LMTokenizers

struct BenchTokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Encode throughput (MB/s, one thread) of tokenizers on a text file.",
        discussion: "Make a mixed text with scripts/make-tokenizer-corpus.sh; the peer is scripts/bench-hf-tokenizers.py on the same file.")

    @Option(help: "A model folder, tokenizer.json or GGUF file (repeatable).")
    var model: [String] = []

    @Option(help: "The text to encode.")
    var file: String

    @Option(help: "Repetitions; the best is reported.")
    var repeats: Int = 3

    func run() throws {
        guard let handle = fopen(file, "rb") else { throw CLIError("cannot open \(file)") }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while case let n = fread(&buffer, 1, buffer.count, handle), n > 0 { bytes += buffer[0..<n] }
        fclose(handle)
        let text = String(decoding: bytes, as: UTF8.self)
        let megabytes = Double(text.utf8.count) / 1e6
        print("text: \(file), \(format(megabytes, decimals: 2)) MB, \(text.unicodeScalars.count) characters; one thread, best of \(repeats)\n")
        var table = TextTable(header: ["tokenizer", "tokens", "load", "encode MB/s", "tokens/s"])
        for path in model {
            var start = monotonicSeconds()
            let tokenizer = try TokenizerLoader.load(path: path)
            let load = monotonicSeconds() - start
            var best = Double.infinity, count = 0
            for _ in 0..<repeats {
                start = monotonicSeconds()
                count = tokenizer.encode(text, addSpecialTokens: false).count
                best = min(best, monotonicSeconds() - start)
            }
            table.rows.append([path.split(separator: "/").suffix(2).joined(separator: "/"), "\(count)",
                               format(load * 1000, decimals: 0) + " ms", format(megabytes / best, decimals: 2),
                               formatCount(Int(Double(count) / best))])
        }
        print(table.render())
    }
}
