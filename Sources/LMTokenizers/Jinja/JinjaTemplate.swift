/// A parsed chat template. Rendering follows Jinja2 as transformers configures it
/// (`trim_blocks`, `lstrip_blocks`, loop controls, no autoescape, an immutable sandbox: lists and
/// dictionaries cannot be modified, only `namespace()` objects), bounded so a hostile template
/// ends with an error instead of a hang.
public struct JinjaTemplate: Sendable {
    let nodes: [JinjaNode]

    /// Limits on one rendering.
    public struct Limits: Sendable {
        public var iterations = 1_000_000
        public var rangeLength = 100_000
        public var callDepth = 64
        public var outputBytes = 16 << 20
        public init() {}
    }

    public init(_ source: String) throws(JinjaError) {
        nodes = try JinjaParser.parse(source)
    }

    /// Renders with `context` as the template's variables. `now` is what `strftime_now` formats.
    public func render(_ context: JinjaObject, now: JinjaClock = .system, limits: Limits = Limits()) throws(JinjaError) -> String {
        let interpreter = JinjaInterpreter(context: context, now: now, limits: limits)
        try interpreter.run(nodes)
        return interpreter.output
    }
}

/// The time `strftime_now` formats: the system clock, or a fixed one for reproducible renders.
public enum JinjaClock: Sendable {
    case system
    /// Year, month, day, hour, minute, second (local time of the caller's choosing).
    case fixed(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int)
}

extension JinjaNode: @unchecked Sendable {}
