import LMCPU
import LMModels
import LMTensor
import Testing

@Suite struct SessionTests {
    let backend = try! CPUBackend(threads: 1)

    @Test func badTokensAndLengthsThrowInsteadOfCrashing() throws {
        let loaded = try ModelLoader.load(path: Fixtures.model("tiny-llama"), backend: backend)
        let session = try SequenceSession(model: loaded.model, capacity: 10)
        #expect(throws: ForwardError.tokenOutOfRange(token: 512, vocabSize: 512)) { try session.extend([0, 512]) }
        #expect(throws: ForwardError.tokenOutOfRange(token: -1, vocabSize: 512)) { try session.extend([-1]) }
        #expect(throws: ForwardError.emptyBatch) { try session.extend([]) }
        #expect(throws: ForwardError.contextTooLong(length: 11, limit: 10)) { try session.extend(Array(repeating: 5, count: 11)) }
        // The session is still usable after each failure.
        _ = try session.extend([0, 1, 2])
        #expect(session.length == 3)
    }

    @Test func generatorStopsAtEOSUnlessIgnored() throws {
        let loaded = try ModelLoader.load(path: Fixtures.model("tiny-llama"), backend: backend)
        let golden = try Fixtures.golden("tiny-llama").cases["len7"]!
        let generator = GreedyGenerator(session: try SequenceSession(model: loaded.model))
        // Treat the third greedy token as end-of-sequence: generation stops right after it.
        let stop = golden.greedy[2]
        let result = try generator.generate(prompt: golden.inputIds, maxNewTokens: 24, stopTokens: [stop])
        let firstStop = golden.greedy.firstIndex(of: stop)!
        #expect(result.tokens == Array(golden.greedy.prefix(firstStop + 1)) && result.finishReason == .stop)
        let ignored = try generator.generate(prompt: golden.inputIds, maxNewTokens: 24)
        #expect(ignored.tokens == golden.greedy && ignored.finishReason == .length)
    }

    /// Each step is launched before the previous token is read back, yet the generator needs no
    /// room past its last input: a session sized to the prompt and all but the last token suffices.
    @Test func generatorFitsASessionSizedToItsInputs() throws {
        let loaded = try ModelLoader.load(path: Fixtures.model("tiny-llama"), backend: backend)
        let golden = try Fixtures.golden("tiny-llama").cases["len7"]!
        let n = golden.greedy.count
        let tight = GreedyGenerator(session: try SequenceSession(model: loaded.model, capacity: golden.inputIds.count + n - 1))
        #expect(try tight.generate(prompt: golden.inputIds, maxNewTokens: n).tokens == golden.greedy)
        #expect(try tight.generate(prompt: golden.inputIds, maxNewTokens: 1).tokens == [golden.greedy[0]])
        #expect(try tight.generate(prompt: golden.inputIds, maxNewTokens: 0).tokens.isEmpty)
    }

    @Test func blocksAreHandedOutAndReturned() {
        var allocator = BlockAllocator(blockCount: 3)
        var a = SequenceBlocks(blockSize: 4), b = SequenceBlocks(blockSize: 4)
        #expect(a.append(5, from: &allocator) == [0, 1, 2, 3, 4])
        #expect(b.append(4, from: &allocator) == [8, 9, 10, 11])
        #expect(a.append(4, from: &allocator) == nil)          // needs a third block for a: none left
        #expect(a.length == 5 && allocator.freeCount == 0)
        #expect(a.append(3, from: &allocator) == [5, 6, 7])     // fits in a's second block
        b.release(to: &allocator)
        #expect(allocator.freeCount == 1)
        #expect(a.append(1, from: &allocator) == [8])
    }
}
