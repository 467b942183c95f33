/// Parses lexer chunks into a tree of nodes (recursive descent, Jinja2's operator precedence).
struct JinjaParser {
    private let chunks: [JinjaLexer.Chunk]
    private var position = 0

    init(_ chunks: [JinjaLexer.Chunk]) { self.chunks = chunks }

    static func parse(_ source: String) throws(JinjaError) -> [JinjaNode] {
        var parser = JinjaParser(try JinjaLexer.chunks(source))
        let (nodes, end) = try parser.parseBlock(until: [])
        if let end { throw .syntax(line: end.line, message: "unexpected \(end.keyword)") }
        return nodes
    }

    /// A statement that ended a block: its keyword, tokens after it, and line.
    struct BlockEnd {
        let keyword: String
        let tokens: [JinjaToken]
        let line: Int
    }

    /// Nodes until one of the `terminators` statements (returned) or the end of the template.
    mutating func parseBlock(until terminators: Set<String>) throws(JinjaError) -> ([JinjaNode], BlockEnd?) {
        var nodes: [JinjaNode] = []
        while position < chunks.count {
            let chunk = chunks[position]
            position += 1
            switch chunk {
            case let .text(text, _):
                nodes.append(.text(text))
            case let .output(tokens, line):
                var stream = TokenStream(tokens, line: line)
                nodes.append(.output(try stream.expression()))
                try stream.expectEnd()
            case let .statement(tokens, line):
                guard case let .name(keyword)? = tokens.first?.kind else { throw .syntax(line: line, message: "empty statement") }
                if terminators.contains(keyword) { return (nodes, BlockEnd(keyword: keyword, tokens: Array(tokens.dropFirst()), line: line)) }
                nodes.append(try parseStatement(keyword, TokenStream(Array(tokens.dropFirst()), line: line), line: line))
            }
        }
        if !terminators.isEmpty {
            throw .syntax(line: chunks.last?.line ?? 1, message: "missing \(terminators.sorted().joined(separator: " or "))")
        }
        return (nodes, nil)
    }

    private mutating func parseStatement(_ keyword: String, _ stream: TokenStream, line: Int) throws(JinjaError) -> JinjaNode {
        var stream = stream
        switch keyword {
        case "if":
            var branches: [(JinjaExpression, [JinjaNode])] = []
            var condition = try stream.expression()
            try stream.expectEnd()
            while true {
                let (body, end) = try parseBlock(until: ["elif", "else", "endif"])
                branches.append((condition, body))
                guard let end else { throw .syntax(line: line, message: "if without endif") }
                switch end.keyword {
                case "elif":
                    var inner = TokenStream(end.tokens, line: end.line)
                    condition = try inner.expression()
                    try inner.expectEnd()
                case "else":
                    let (otherwise, close) = try parseBlock(until: ["endif"])
                    guard close != nil else { throw .syntax(line: line, message: "if without endif") }
                    return .conditional(branches, otherwise: otherwise)
                default:
                    return .conditional(branches, otherwise: [])
                }
            }
        case "for":
            var targets = [try stream.name()]
            while stream.accept(op: ",") { targets.append(try stream.name()) }
            try stream.expect(name: "in")
            let iterable = try stream.expression(allowConditional: false)
            var filter: JinjaExpression?
            if stream.accept(name: "if") { filter = try stream.expression(allowConditional: false) }
            _ = stream.accept(name: "recursive")
            try stream.expectEnd()
            let (body, end) = try parseBlock(until: ["else", "endfor"])
            guard let end else { throw .syntax(line: line, message: "for without endfor") }
            var otherwise: [JinjaNode] = []
            if end.keyword == "else" {
                let (elseBody, close) = try parseBlock(until: ["endfor"])
                guard close != nil else { throw .syntax(line: line, message: "for without endfor") }
                otherwise = elseBody
            }
            return .loop(targets: targets, iterable: iterable, filter: filter, body: body, otherwise: otherwise, line: line)
        case "set":
            let first = try stream.name()
            var target = JinjaTarget.name(first)
            if stream.accept(op: ".") {
                target = .attribute(first, try stream.name())
            } else if stream.peek(op: ",") {
                var names = [first]
                while stream.accept(op: ",") { names.append(try stream.name()) }
                target = .names(names)
            }
            if stream.accept(op: "=") {
                let value = try stream.expression()
                try stream.expectEnd()
                return .assign(target, value, line: line)
            }
            try stream.expectEnd()
            let (body, end) = try parseBlock(until: ["endset"])
            guard end != nil else { throw .syntax(line: line, message: "set without endset") }
            return .assignBlock(target, body: body, line: line)
        case "macro":
            let name = try stream.name()
            let parameters = try stream.parameters()
            try stream.expectEnd()
            let (body, end) = try parseBlock(until: ["endmacro"])
            guard end != nil else { throw .syntax(line: line, message: "macro without endmacro") }
            return .macro(JinjaMacro(name: name, parameters: parameters, body: body))
        case "call":
            let parameters = stream.peek(op: "(") ? try stream.parameters() : []
            let call = try stream.expression()
            try stream.expectEnd()
            let (body, end) = try parseBlock(until: ["endcall"])
            guard end != nil else { throw .syntax(line: line, message: "call without endcall") }
            return .callBlock(call, parameters: parameters, body: body, line: line)
        case "filter":
            let name = try stream.name()
            let (arguments, _) = stream.peek(op: "(") ? try stream.callArguments() : ([], [])
            try stream.expectEnd()
            let (body, end) = try parseBlock(until: ["endfilter"])
            guard end != nil else { throw .syntax(line: line, message: "filter without endfilter") }
            return .filterBlock(name: name, arguments: arguments, body: body, line: line)
        case "break":
            try stream.expectEnd()
            return .breakLoop(line: line)
        case "continue":
            try stream.expectEnd()
            return .continueLoop(line: line)
        case "generation", "endgeneration":
            return .text("")   // transformers' assistant-mask markers render nothing
        default:
            throw .syntax(line: line, message: "unknown statement \"\(keyword)\"")
        }
    }
}

/// Tokens of one tag with the expression grammar.
struct TokenStream {
    private let tokens: [JinjaToken]
    private var index = 0
    private let line: Int

    init(_ tokens: [JinjaToken], line: Int) {
        self.tokens = tokens
        self.line = line
    }

    private var current: JinjaToken? { index < tokens.count ? tokens[index] : nil }
    private var currentLine: Int { current?.line ?? line }

    func peek(op: String) -> Bool { current?.kind == .op(op) }
    func peek(name: String) -> Bool { current?.kind == .name(name) }

    mutating func accept(op: String) -> Bool {
        guard peek(op: op) else { return false }
        index += 1
        return true
    }

    mutating func accept(name: String) -> Bool {
        guard peek(name: name) else { return false }
        index += 1
        return true
    }

    mutating func expect(op: String) throws(JinjaError) {
        guard accept(op: op) else { throw .syntax(line: currentLine, message: "expected \"\(op)\"\(found)") }
    }

    mutating func expect(name: String) throws(JinjaError) {
        guard accept(name: name) else { throw .syntax(line: currentLine, message: "expected \"\(name)\"\(found)") }
    }

    mutating func name() throws(JinjaError) -> String {
        guard case let .name(name)? = current?.kind else { throw .syntax(line: currentLine, message: "expected a name\(found)") }
        index += 1
        return name
    }

    func expectEnd() throws(JinjaError) {
        if current != nil { throw .syntax(line: currentLine, message: "unexpected\(found)") }
    }

    private var found: String {
        switch current?.kind {
        case nil: ", found the end of the tag"
        case let .name(n)?: ", found \"\(n)\""
        case let .op(o)?: ", found \"\(o)\""
        case let .string(s)?: ", found '\(s)'"
        case let .int(i)?: ", found \(i)"
        case let .double(d)?: ", found \(d)"
        }
    }

    /// (name, default) pairs of a macro or call block signature.
    mutating func parameters() throws(JinjaError) -> [(name: String, defaultValue: JinjaExpression?)] {
        try expect(op: "(")
        var parameters: [(name: String, defaultValue: JinjaExpression?)] = []
        while !accept(op: ")") {
            let name = try self.name()
            parameters.append((name, accept(op: "=") ? try expression() : nil))
            if !accept(op: ",") { try expect(op: ")"); break }
        }
        return parameters
    }

    mutating func callArguments() throws(JinjaError) -> ([JinjaExpression], [(String, JinjaExpression)]) {
        try expect(op: "(")
        var arguments: [JinjaExpression] = [], keywords: [(String, JinjaExpression)] = []
        while !accept(op: ")") {
            if case let .name(name)? = current?.kind, index + 1 < tokens.count, tokens[index + 1].kind == .op("=") {
                index += 2
                keywords.append((name, try expression()))
            } else {
                arguments.append(try expression())
            }
            if !accept(op: ",") { try expect(op: ")"); break }
        }
        return (arguments, keywords)
    }

    // MARK: Expressions, lowest precedence first

    mutating func expression(allowConditional: Bool = true) throws(JinjaError) -> JinjaExpression {
        let value = try or()
        guard allowConditional, peek(name: "if") else { return value }
        let line = currentLine
        index += 1
        let condition = try or()
        let otherwise = accept(name: "else") ? try expression() : nil
        return .conditional(value, condition: condition, otherwise: otherwise, line: line)
    }

    private mutating func or() throws(JinjaError) -> JinjaExpression {
        var left = try and()
        while peek(name: "or") {
            let line = currentLine
            index += 1
            left = .binary("or", left, try and(), line: line)
        }
        return left
    }

    private mutating func and() throws(JinjaError) -> JinjaExpression {
        var left = try not()
        while peek(name: "and") {
            let line = currentLine
            index += 1
            left = .binary("and", left, try not(), line: line)
        }
        return left
    }

    private mutating func not() throws(JinjaError) -> JinjaExpression {
        if peek(name: "not") {
            let line = currentLine
            index += 1
            return .unary("not", try not(), line: line)
        }
        return try comparison()
    }

    private mutating func comparison() throws(JinjaError) -> JinjaExpression {
        var left = try concatenation()
        while true {
            let line = currentLine
            if let op = ["==", "!=", "<", "<=", ">", ">="].first(where: { peek(op: $0) }) {
                index += 1
                left = .binary(op, left, try concatenation(), line: line)
            } else if peek(name: "in") {
                index += 1
                left = .binary("in", left, try concatenation(), line: line)
            } else if peek(name: "not"), index + 1 < tokens.count, tokens[index + 1].kind == .name("in") {
                index += 2
                left = .binary("not in", left, try concatenation(), line: line)
            } else if peek(name: "is") {
                index += 1
                let negated = accept(name: "not")
                let name = try self.name()
                var arguments: [JinjaExpression] = []
                if peek(op: "(") {
                    arguments = try callArguments().0
                } else if let token = current, Self.startsTestArgument(token.kind) {
                    arguments = [try concatenation()]
                }
                left = .test(left, name: name, arguments: arguments, negated: negated, line: line)
            } else {
                return left
            }
        }
    }

    /// `x is divisibleby 3`, `x is sameas none`: a test takes one bare argument.
    private static func startsTestArgument(_ kind: JinjaToken.Kind) -> Bool {
        switch kind {
        case .string, .int, .double: true
        case let .name(n): !["and", "or", "else", "if", "is", "in", "not"].contains(n)
        case let .op(o): o == "[" || o == "{" || o == "-"
        }
    }

    private mutating func concatenation() throws(JinjaError) -> JinjaExpression {
        var left = try additive()
        while peek(op: "~") {
            let line = currentLine
            index += 1
            left = .binary("~", left, try additive(), line: line)
        }
        return left
    }

    private mutating func additive() throws(JinjaError) -> JinjaExpression {
        var left = try multiplicative()
        while let op = ["+", "-"].first(where: { peek(op: $0) }) {
            let line = currentLine
            index += 1
            left = .binary(op, left, try multiplicative(), line: line)
        }
        return left
    }

    private mutating func multiplicative() throws(JinjaError) -> JinjaExpression {
        var left = try power()
        while let op = ["*", "/", "//", "%"].first(where: { peek(op: $0) }) {
            let line = currentLine
            index += 1
            left = .binary(op, left, try power(), line: line)
        }
        return left
    }

    private mutating func power() throws(JinjaError) -> JinjaExpression {
        let left = try unary()
        if peek(op: "**") {
            let line = currentLine
            index += 1
            return .binary("**", left, try unary(), line: line)
        }
        return left
    }

    private mutating func unary() throws(JinjaError) -> JinjaExpression {
        if let op = ["-", "+"].first(where: { peek(op: $0) }) {
            let line = currentLine
            index += 1
            return .unary(op, try unary(), line: line)
        }
        return try filtered(try postfix(try primary()))
    }

    private mutating func filtered(_ base: JinjaExpression) throws(JinjaError) -> JinjaExpression {
        var value = base
        while peek(op: "|") {
            let line = currentLine
            index += 1
            var name = try self.name()
            while accept(op: ".") { name += "." + (try self.name()) }
            let (arguments, keywords) = peek(op: "(") ? try callArguments() : ([], [])
            value = try postfix(.filter(value, name: name, arguments: arguments, keywords: keywords, line: line))
        }
        return value
    }

    private mutating func postfix(_ base: JinjaExpression) throws(JinjaError) -> JinjaExpression {
        var value = base
        while true {
            let line = currentLine
            if accept(op: ".") {
                if case let .int(i)? = current?.kind {
                    index += 1
                    value = .subscripted(value, .literal(.int(i)), line: line)
                } else {
                    value = .attribute(value, try name(), line: line)
                }
            } else if accept(op: "[") {
                var start: JinjaExpression?, stop: JinjaExpression?, step: JinjaExpression?
                if !peek(op: ":") { start = try expression() }
                if accept(op: ":") {
                    if !peek(op: ":") && !peek(op: "]") { stop = try expression() }
                    if accept(op: ":"), !peek(op: "]") { step = try expression() }
                    try expect(op: "]")
                    value = .slice(value, start: start, stop: stop, step: step, line: line)
                } else {
                    try expect(op: "]")
                    guard let start else { throw .syntax(line: line, message: "empty subscript") }
                    value = .subscripted(value, start, line: line)
                }
            } else if peek(op: "(") {
                let (arguments, keywords) = try callArguments()
                value = .call(value, arguments: arguments, keywords: keywords, line: line)
            } else {
                return value
            }
        }
    }

    private mutating func primary() throws(JinjaError) -> JinjaExpression {
        guard let token = current else { throw .syntax(line: line, message: "expected an expression, found the end of the tag") }
        index += 1
        switch token.kind {
        case let .string(s):
            var text = s
            while case let .string(more)? = current?.kind { text += more; index += 1 }   // adjacent literals join
            return .literal(.string(text))
        case let .int(i): return .literal(.int(i))
        case let .double(d): return .literal(.double(d))
        case let .name(name):
            switch name {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(name, line: token.line)
            }
        case .op("("):
            if accept(op: ")") { return .tuple([]) }
            let first = try expression()
            if accept(op: ")") { return first }
            var items = [first]
            while accept(op: ",") {
                if peek(op: ")") { break }
                items.append(try expression())
            }
            try expect(op: ")")
            return .tuple(items)
        case .op("["):
            var items: [JinjaExpression] = []
            while !accept(op: "]") {
                items.append(try expression())
                if !accept(op: ",") { try expect(op: "]"); break }
            }
            return .list(items)
        case .op("{"):
            var pairs: [(JinjaExpression, JinjaExpression)] = []
            while !accept(op: "}") {
                let key = try expression()
                try expect(op: ":")
                pairs.append((key, try expression()))
                if !accept(op: ",") { try expect(op: "}"); break }
            }
            return .dict(pairs)
        case let .op(op):
            throw .syntax(line: token.line, message: "unexpected \"\(op)\"")
        }
    }
}
