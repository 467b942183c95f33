/// One change to one logit before sampling, in vLLM's order: `logit_bias`, the `min_tokens` ban
/// of stop tokens, the repetition penalty (divides a positive logit, multiplies a negative one),
/// then presence and frequency penalties subtracted. A request's processors become one edit per
/// token they touch, so a backend applies them where the logits are.
public struct LogitEdit: Sendable, Equatable {
    /// Row of the logits [R, V] and token (column) the edit applies to.
    public var row: Int32
    public var token: Int32
    public var bias: Float = 0
    public var ban = false
    /// 1 leaves the logit alone.
    public var repetition: Float = 1
    public var subtract: Float = 0
    /// `subtract` if the token turns out to be the row's pending draw (`PendingDraw`): the
    /// presence and frequency penalties with this token counted once more.
    public var subtractIfDrawn: Float = 0

    public init(row: Int32, token: Int32, bias: Float = 0, ban: Bool = false, repetition: Float = 1, subtract: Float = 0,
                subtractIfDrawn: Float = 0) {
        self.row = row
        self.token = token
        self.bias = bias
        self.ban = ban
        self.repetition = repetition
        self.subtract = subtract
        self.subtractIfDrawn = subtractIfDrawn
    }

    /// Its element in row-major logits of `shape` [R, V]; outside them is a caller's bug and traps.
    public func index(in shape: Shape) -> Int {
        precondition(row >= 0 && Int(row) < shape[0] && token >= 0 && Int(token) < shape[1], "logit edit at (\(row), \(token)) outside \(shape)")
        return Int(row) * shape[1] + Int(token)
    }

    /// The reference for `Backend.editLogits`: the same float operations as the host processors.
    public func apply(to logit: Float) -> Float {
        var value = logit + bias
        if ban { value = -.infinity }
        if repetition != 1 { value = value > 0 ? value / repetition : value * repetition }
        return value - subtract
    }
}
