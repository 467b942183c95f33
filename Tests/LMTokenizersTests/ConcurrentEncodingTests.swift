import Dispatch
import Foundation
import LMTokenizers
import Testing

/// The server tokenizes requests on many threads with one tokenizer: encoding concurrently must
/// give what encoding one at a time gives (the BPE word cache is shared; an unlocked cache
/// crashed the server under concurrent requests).
@Suite struct ConcurrentEncodingTests {
    @Test func concurrentEncodingEqualsSequential() throws {
        let tokenizer = try Tokenizer.load(path: TokenizerFixtures.root + "/tokenizers/llama-bpe")
        // Mostly unseen words, so the threads keep inserting into the shared cache at once.
        let texts = (0..<400).map { i in (0..<60).map { j in "w\(i)x\(j)q déjà\(j)" }.joined(separator: " ") }
        let expected = texts.map { tokenizer.encode($0) }
        let results = ConcurrentResults(count: texts.count)
        let fresh = try Tokenizer.load(path: TokenizerFixtures.root + "/tokenizers/llama-bpe")   // an empty cache
        DispatchQueue.concurrentPerform(iterations: texts.count) { i in
            results.store(fresh.encode(texts[i]), at: i)
        }
        #expect(results.values == expected)
    }
}

/// Results written from several threads, one slot each.
private final class ConcurrentResults: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [[Int32]]
    init(count: Int) { slots = Array(repeating: [], count: count) }
    func store(_ value: [Int32], at index: Int) { lock.withLock { slots[index] = value } }
    var values: [[Int32]] { lock.withLock { slots } }
}
