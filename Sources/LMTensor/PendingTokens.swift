/// Token ids on their way to the host: the copy was queued behind a step's work, so the host can
/// queue the next step before they land; `wait` blocks until they have (call it once).
public struct PendingTokens {
    private let receive: () -> [Int32]

    /// - Parameter receive: blocks until the values are on the host, then returns them.
    public init(_ receive: @escaping () -> [Int32]) { self.receive = receive }

    /// Values the host already holds.
    public init(ready values: [Int32]) { receive = { values } }

    public func wait() -> [Int32] { receive() }
}
