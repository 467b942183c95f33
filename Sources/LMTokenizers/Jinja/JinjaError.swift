/// A template that cannot be parsed or rendered; `line` is 1-based in the template source.
public enum JinjaError: Error, Equatable, CustomStringConvertible {
    case syntax(line: Int, message: String)
    case runtime(line: Int, message: String)
    /// `raise_exception(message)` called by the template itself.
    case raised(line: Int, message: String)
    case limit(line: Int, message: String)

    public var description: String {
        switch self {
        case let .syntax(line, message): "chat template syntax error on line \(line): \(message)"
        case let .runtime(line, message): "chat template error on line \(line): \(message)"
        case let .raised(line, message): "chat template raised an exception on line \(line): \(message)"
        case let .limit(line, message): "chat template stopped on line \(line): \(message)"
        }
    }

    var line: Int {
        switch self {
        case let .syntax(line, _), let .runtime(line, _), let .raised(line, _), let .limit(line, _): line
        }
    }
}
