/// A tensor shape of rank 0...4, stored inline so views and reshapes never allocate.
/// Legend used across the code base: B batch, T tokens, H heads, D head dim, C channels, V vocab.
public struct Shape: Sendable, Hashable, CustomStringConvertible {
    public static let maxRank = 4
    private var storage: (Int, Int, Int, Int) = (1, 1, 1, 1)
    public private(set) var rank: Int

    public init(_ dims: Int...) { self.init(dims) }

    public init(_ dims: [Int]) {
        precondition(dims.count <= Shape.maxRank, "rank \(dims.count) exceeds \(Shape.maxRank)")
        precondition(dims.allSatisfy { $0 >= 0 }, "negative dimension in \(dims)")
        rank = dims.count
        for (i, d) in dims.enumerated() { self[i] = d }
    }

    public subscript(index: Int) -> Int {
        get {
            precondition(index >= 0 && index < rank, "dimension \(index) out of range for rank \(rank)")
            switch index {
            case 0: return storage.0
            case 1: return storage.1
            case 2: return storage.2
            default: return storage.3
            }
        }
        set {
            precondition(index >= 0 && index < Shape.maxRank)
            switch index {
            case 0: storage.0 = newValue
            case 1: storage.1 = newValue
            case 2: storage.2 = newValue
            default: storage.3 = newValue
            }
        }
    }

    public var dims: [Int] { (0..<rank).map { self[$0] } }

    public var elementCount: Int {
        var n = 1
        for i in 0..<rank { n *= self[i] }
        return n
    }

    /// The last dimension (row length of a row-major matrix).
    public var last: Int { rank == 0 ? 1 : self[rank - 1] }

    /// All dimensions but the last, multiplied (number of rows of a row-major matrix).
    public var rows: Int { rank == 0 ? 1 : elementCount / Swift.max(last, 1) }

    public static func == (a: Shape, b: Shape) -> Bool {
        guard a.rank == b.rank else { return false }
        for i in 0..<a.rank where a[i] != b[i] { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rank)
        for i in 0..<rank { hasher.combine(self[i]) }
    }

    public var description: String { "[" + dims.map(String.init).joined(separator: ", ") + "]" }
}
