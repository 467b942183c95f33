/// How an engine is sized.
public struct EngineConfig: Sendable {
    public var scheduler = SchedulerConfig()
    /// Tokens per KV block.
    public var blockSize = 16
    /// KV blocks; nil derives them from `kvCacheBytes`.
    public var blockCount: Int?
    /// Memory for the KV cache when `blockCount` is nil.
    public var kvCacheBytes = 1 << 30
    public var prefixCaching = true
    /// Plan step N+1 while the device runs step N (its inputs include step N's samples, filled
    /// in on the device). Off: plan, run and apply each step in turn.
    public var asyncScheduling = true
    /// With `asyncScheduling`, launch step N+1 on the device before step N's tokens are read
    /// back, where its draws allow (`ModelRunner.canLaunch`), so the device never waits for the
    /// host between steps. Off: each step is read back before the next is launched.
    public var launchAhead = true
    /// The model's name in metrics (`model_name`) and, upstream, the API.
    public var modelName = "default"

    public init() {}
}
