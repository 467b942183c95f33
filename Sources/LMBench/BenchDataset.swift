#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One request of a benchmark: its prompt (text or token ids) and how many tokens to generate.
public struct BenchRequest: Sendable, Equatable {
    public enum Prompt: Sendable, Equatable {
        case text(String)
        case tokens([Int32])
    }
    public var prompt: Prompt
    /// Prompt length as generated: exact for token ids, about one token per word for text.
    public var promptLength: Int
    public var outputLength: Int

    public init(prompt: Prompt, promptLength: Int, outputLength: Int) {
        self.prompt = prompt
        self.promptLength = promptLength
        self.outputLength = outputLength
    }
}

/// Synthetic request sets, generated from a seed so runs are comparable.
public enum BenchDataset: Sendable, Equatable {
    /// Every prompt and output length drawn uniformly from `len·(1−r)...len·(1+r)` (vLLM's
    /// `random` dataset).
    case random(inputLength: Int, outputLength: Int, rangeRatio: Double)
    /// Lengths from log-normal distributions shaped like ShareGPT conversations (vLLM's default
    /// dataset): median prompt ~130 tokens, median reply ~170, long tails, each clipped to
    /// 4...1024 and pairs over 2048 tokens dropped as vLLM does.
    case shareGPTLike

    public enum PromptFormat: String, Sendable, CaseIterable {
        /// Words from a fixed list (~one token each); lengths as reported by the server.
        case text
        /// Random token ids below the vocabulary size: exact lengths.
        case ids
    }

    public func requests(count: Int, format: PromptFormat, vocabularySize: Int, seed: UInt64) -> [BenchRequest] {
        var generator = SeededGenerator(seed: seed)
        var result: [BenchRequest] = []
        result.reserveCapacity(count)
        while result.count < count {
            let (input, output) = lengths(&generator)
            guard input >= 1, output >= 1 else { continue }
            let prompt: BenchRequest.Prompt
            switch format {
            case .ids:
                prompt = .tokens((0..<input).map { _ in Int32(Int.random(in: 0..<vocabularySize, using: &generator)) })
            case .text:
                prompt = .text((0..<input).map { _ in Self.words.randomElement(using: &generator)! }.joined(separator: " "))
            }
            result.append(BenchRequest(prompt: prompt, promptLength: input, outputLength: output))
        }
        return result
    }

    private func lengths(_ generator: inout SeededGenerator) -> (Int, Int) {
        switch self {
        case let .random(input, output, ratio):
            func draw(_ length: Int) -> Int {
                let low = max(1, Int((Double(length) * (1 - ratio)).rounded())), high = max(low, Int((Double(length) * (1 + ratio)).rounded()))
                return Int.random(in: low...high, using: &generator)
            }
            return (draw(input), draw(output))
        case .shareGPTLike:
            while true {
                let input = Int(exp(log(130.0) + 1.1 * generator.nextGaussian()).rounded())
                let output = Int(exp(log(170.0) + 0.9 * generator.nextGaussian()).rounded())
                if (4...1024).contains(input), (4...1024).contains(output), input + output <= 2048 { return (input, output) }
            }
        }
    }

    /// Common English words; most are a single token (with their leading space) in BPE vocabularies.
    static let words: [String] = """
        the of and to in is was that for on with as by at from his her they this have had not are but which one all were \
        when we there can an your more if will about up out them some would so what their other time into has two could \
        like him see than now only people its over also after first new way may where most made day work through years \
        back any good much down should because each just those how too little state year world still own see men last \
        never under might great old same another while must long house both between life being under three here off \
        water place right think around small found thought went say part once general high upon school every hand \
        light number city under open night water point home room mother side book eyes word close name family head
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
}
