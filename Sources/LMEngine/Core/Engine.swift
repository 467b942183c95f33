import LMModels
import LMTensor
import LMTokenizers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The engine: requests go in through `generate`, stream out as `RequestOutput`s. Underneath,
/// a core thread schedules, runs the model and samples (`EngineCore`), and an output thread
/// detokenizes, applies stop strings and feeds the streams, so text work for step N overlaps
/// the forward pass of step N + 1. Dropping or cancelling a stream aborts its request.
public final class Engine: @unchecked Sendable {
    public let model: DecoderModel
    public let tokenizer: Tokenizer?
    let core: EngineCore
    /// The settings it runs with (maxModelLen capped by the model's context).
    public var config: EngineConfig { core.config }
    /// Blocks of `config.blockSize` tokens in its KV cache.
    public var kvBlockCount: Int { core.kvBlockCount }
    private let idLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var nextID = 0
    private var idsByName: [String: [RequestID]] = [:]

    public init(model: DecoderModel, tokenizer: Tokenizer?, config: EngineConfig = EngineConfig()) throws {
        self.model = model
        self.tokenizer = tokenizer
        var config = config
        config.scheduler.maxModelLen = min(config.scheduler.maxModelLen, model.spec.maxPositions)
        core = try EngineCore(model: model, tokenizer: tokenizer, config: config)
        pthread_mutex_init(idLock, nil)
    }

    deinit {
        core.shutdown()
        pthread_mutex_destroy(idLock)
        idLock.deallocate()
    }

    /// Streams the request's output. Throws at once for invalid parameters or a full queue.
    public func generate(_ request: GenerationRequest) throws(EngineError) -> AsyncThrowingStream<RequestOutput, Error> {
        guard !request.prompt.isEmpty else { throw .invalid("the prompt is empty") }
        for token in request.prompt where token < 0 || Int(token) >= model.spec.vocabSize {
            throw .invalid("prompt token \(token) is outside the vocabulary (0..<\(model.spec.vocabSize))")
        }
        do { try request.parameters.validate(vocabularySize: model.spec.vocabSize) } catch {
            throw .invalid(error.description)
        }
        let ids = reserveIDs(request.parameters.n, name: request.id)
        let (stream, continuation) = AsyncThrowingStream<RequestOutput, Error>.makeStream()
        let group = OutputGroup(continuation: continuation, count: ids.count)
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination { self?.core.abort(ids) }
            self?.forget(request.id)
        }
        try core.submit(request, ids: ids, group: group)
        return stream
    }

    /// Aborts a request by the id it was submitted with.
    public func abort(_ id: String) {
        pthread_mutex_lock(idLock)
        let ids = idsByName[id] ?? []
        pthread_mutex_unlock(idLock)
        core.abort(ids)
    }

    /// Stops the engine: running requests end with `EngineError.shuttingDown`.
    public func shutdown() { core.shutdown() }

    /// A snapshot of the engine's counters (taken on the core thread between steps).
    public var stats: EngineStats { core.stats }

    private func reserveIDs(_ count: Int, name: String) -> [RequestID] {
        pthread_mutex_lock(idLock)
        defer { pthread_mutex_unlock(idLock) }
        let ids = Array(nextID..<(nextID + count))
        nextID += count
        idsByName[name] = ids
        return ids
    }

    private func forget(_ name: String) {
        pthread_mutex_lock(idLock)
        idsByName.removeValue(forKey: name)
        pthread_mutex_unlock(idLock)
    }
}

/// Counters of the engine, for tests, metrics and the CLI.
public struct EngineStats: Sendable, Equatable {
    public var running = 0
    public var waiting = 0
    public var blocksUsed = 0
    public var blockCount = 0
    public var computedTokens = 0
    public var cachedTokens = 0
    public var preemptions = 0
    public var steps = 0
    /// The device worker's time, summed over the steps so far.
    public var stepTiming = StepTiming()
    /// The same for steps where every sequence decodes one token, by the number of sequences.
    public var decodeStepTiming: [Int: StepTiming] = [:]
    public var prefixCacheHitRate = 0.0
}
