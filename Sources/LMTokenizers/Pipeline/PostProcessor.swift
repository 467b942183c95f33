/// Adds special tokens around an encoded sequence (Hugging Face `processors`), single
/// sequences only.
indirect enum PostProcessor: Sendable {
    enum Piece: Sendable, Equatable {
        case special([Int32])
        case sequence
    }

    /// TemplateProcessing's `single` template with its special tokens resolved to ids.
    case template([Piece])
    /// Byte-level offsets trimming: nothing to do for ids.
    case byteLevel
    case sequence([PostProcessor])

    func apply(_ ids: [Int32]) -> [Int32] {
        switch self {
        case let .template(pieces):
            var out: [Int32] = []
            out.reserveCapacity(ids.count + pieces.count)
            for piece in pieces {
                switch piece {
                case let .special(special): out.append(contentsOf: special)
                case .sequence: out.append(contentsOf: ids)
                }
            }
            return out
        case .byteLevel:
            return ids
        case let .sequence(steps):
            return steps.reduce(ids) { $1.apply($0) }
        }
    }
}
