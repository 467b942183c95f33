/// Template expressions.
indirect enum JinjaExpression {
    case literal(JinjaValue)
    case name(String, line: Int)
    case list([JinjaExpression])
    case tuple([JinjaExpression])
    case dict([(JinjaExpression, JinjaExpression)])
    case attribute(JinjaExpression, String, line: Int)
    case subscripted(JinjaExpression, JinjaExpression, line: Int)
    case slice(JinjaExpression, start: JinjaExpression?, stop: JinjaExpression?, step: JinjaExpression?, line: Int)
    case call(JinjaExpression, arguments: [JinjaExpression], keywords: [(String, JinjaExpression)], line: Int)
    case filter(JinjaExpression, name: String, arguments: [JinjaExpression], keywords: [(String, JinjaExpression)], line: Int)
    case test(JinjaExpression, name: String, arguments: [JinjaExpression], negated: Bool, line: Int)
    case unary(String, JinjaExpression, line: Int)
    case binary(String, JinjaExpression, JinjaExpression, line: Int)
    case conditional(JinjaExpression, condition: JinjaExpression, otherwise: JinjaExpression?, line: Int)
}

/// What `{% set %}` assigns to.
enum JinjaTarget {
    case name(String)
    case attribute(String, String)     // namespace.attribute
    case names([String])               // tuple unpacking
}

/// Template statements and text.
indirect enum JinjaNode {
    case text(String)
    case output(JinjaExpression)
    case conditional([(JinjaExpression, [JinjaNode])], otherwise: [JinjaNode])
    case loop(targets: [String], iterable: JinjaExpression, filter: JinjaExpression?, body: [JinjaNode], otherwise: [JinjaNode], line: Int)
    case assign(JinjaTarget, JinjaExpression, line: Int)
    case assignBlock(JinjaTarget, body: [JinjaNode], line: Int)
    case macro(JinjaMacro)
    case callBlock(JinjaExpression, parameters: [(name: String, defaultValue: JinjaExpression?)], body: [JinjaNode], line: Int)
    case filterBlock(name: String, arguments: [JinjaExpression], body: [JinjaNode], line: Int)
    case breakLoop(line: Int)
    case continueLoop(line: Int)
}
