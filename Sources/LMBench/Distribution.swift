/// Summary statistics of a sample, as vLLM's benchmark reports them.
public struct Distribution: Codable, Sendable, Equatable {
    public var mean: Double
    public var median: Double
    public var std: Double
    public var p90: Double
    public var p99: Double

    public init(_ values: [Double]) {
        guard !values.isEmpty else {
            self.init(mean: 0, median: 0, std: 0, p90: 0, p99: 0)
            return
        }
        let sorted = values.sorted()
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        self.init(mean: mean, median: Self.percentile(sorted, 50), std: variance.squareRoot(),
                  p90: Self.percentile(sorted, 90), p99: Self.percentile(sorted, 99))
    }

    public init(mean: Double, median: Double, std: Double, p90: Double, p99: Double) {
        self.mean = mean
        self.median = median
        self.std = std
        self.p90 = p90
        self.p99 = p99
    }

    /// Linear interpolation between closest ranks (numpy's default).
    public static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard sorted.count > 1 else { return sorted.first ?? 0 }
        let rank = p / 100 * Double(sorted.count - 1)
        let low = Int(rank), high = min(low + 1, sorted.count - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - Double(low))
    }
}
