/// Runs `operation` for at most `seconds` (nil: no limit). On time-out the operation is
/// cancelled (which drops its engine streams and so aborts their requests) and `APIError.timeout`
/// is thrown.
func withDeadline<T: Sendable>(_ seconds: Double?, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    guard let seconds else { return try await operation() }
    return try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            throw APIError.timeout(seconds: seconds)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw CancellationError() }
        return first
    }
}
