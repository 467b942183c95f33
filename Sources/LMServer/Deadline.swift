import Dispatch
import Synchronization

/// Runs `operation` for at most `seconds` (nil: no limit). On time-out the operation is
/// cancelled (which drops its engine streams and so aborts their requests) and, unless it had
/// already finished, `APIError.timeout` is thrown. The timer runs on a Dispatch queue, not on
/// Swift's cooperative pool, so it fires on time even while the pool is busy.
func withDeadline<T: Sendable>(_ seconds: Double?, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    guard let seconds else { return try await operation() }
    let state = DeadlineState()
    let task = Task { try await operation() }
    let timer = DispatchWorkItem {
        state.expired.store(true, ordering: .sequentiallyConsistent)
        task.cancel()
    }
    DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: timer)
    defer { timer.cancel() }
    let result = await withTaskCancellationHandler { await task.result } onCancel: { task.cancel() }
    switch result {
    case let .success(value):
        return value
    case let .failure(error):
        if state.expired.load(ordering: .sequentiallyConsistent) { throw APIError.timeout(seconds: seconds) }
        throw error
    }
}

private final class DeadlineState: Sendable {
    let expired = Atomic<Bool>(false)
}
