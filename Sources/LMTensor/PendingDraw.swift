/// A token drawn on the device for a row's request by the step still in flight, which the host
/// has not read yet: the next step launched ahead edits its logits as if the token were counted,
/// so penalties need not wait for it. The token is `tokens[sourceIndex]` of the tensor the
/// previous step drew into (`Backend.editLogits(_:_:pending:drawn:)`).
public struct PendingDraw: Sendable, Equatable {
    /// Row of the logits [R, V] whose request drew the token.
    public var row: Int32
    public var sourceIndex: Int32
    /// The request's repetition penalty (1: none).
    public var repetition: Float
    /// `subtract` of a token drawn for the first time (presence + frequency × 1).
    public var firstSubtract: Float

    public init(row: Int32, sourceIndex: Int32, repetition: Float, firstSubtract: Float) {
        self.row = row
        self.sourceIndex = sourceIndex
        self.repetition = repetition
        self.firstSubtract = firstSubtract
    }

    /// The reference: `edits` with each pending draw's token counted, given the drawn `tokens`.
    /// A token already edited gets the penalties with one more count; any other gets them fresh
    /// (nothing biased or banned it, or it would be in `edits`).
    public static func resolve(_ edits: [LogitEdit], _ pending: [PendingDraw], tokens: [Int32]) -> [LogitEdit] {
        var resolved = edits
        var index: [Int64: Int] = [:]
        for (i, edit) in edits.enumerated() { index[Self.key(edit.row, edit.token)] = i }
        for draw in pending {
            let token = tokens[Int(draw.sourceIndex)]
            if let i = index[Self.key(draw.row, token)] {
                resolved[i].repetition = draw.repetition
                resolved[i].subtract = resolved[i].subtractIfDrawn
            } else {
                resolved.append(LogitEdit(row: draw.row, token: token, repetition: draw.repetition, subtract: draw.firstSubtract))
            }
        }
        return resolved
    }

    private static func key(_ row: Int32, _ token: Int32) -> Int64 { Int64(row) << 32 | Int64(UInt32(bitPattern: token)) }
}
