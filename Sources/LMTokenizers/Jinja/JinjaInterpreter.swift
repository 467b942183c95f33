/// Walks a template tree. One instance renders once.
final class JinjaInterpreter {
    private var scopes: [[String: JinjaValue]]
    private(set) var output = ""
    let now: JinjaClock
    let limits: JinjaTemplate.Limits
    private var iterations = 0
    private var depth = 0

    private enum Flow { case normal, breakLoop, continueLoop }

    init(context: JinjaObject, now: JinjaClock, limits: JinjaTemplate.Limits) {
        var globals: [String: JinjaValue] = [:]
        for (key, value) in context.entries { globals[key] = value }
        scopes = [Self.builtins, globals]
        self.now = now
        self.limits = limits
    }

    func run(_ nodes: [JinjaNode]) throws(JinjaError) {
        _ = try execute(nodes)
    }

    // MARK: Statements

    private func execute(_ nodes: [JinjaNode]) throws(JinjaError) -> Flow {
        for node in nodes {
            let flow = try execute(node)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func emit(_ text: String, line: Int) throws(JinjaError) {
        output += text
        if output.utf8.count > limits.outputBytes {
            throw .limit(line: line, message: "the output exceeds \(limits.outputBytes) bytes")
        }
    }

    private func execute(_ node: JinjaNode) throws(JinjaError) -> Flow {
        switch node {
        case let .text(text):
            try emit(text, line: 0)
        case let .output(expression):
            try emit(try evaluate(expression).text, line: expression.line)
        case let .conditional(branches, otherwise):
            for (condition, body) in branches where try evaluate(condition).isTruthy {
                return try execute(body)
            }
            return try execute(otherwise)
        case let .loop(targets, iterable, filter, body, otherwise, line):
            return try loop(targets: targets, iterable: iterable, filter: filter, body: body, otherwise: otherwise, line: line)
        case let .assign(target, expression, line):
            try assign(target, try evaluate(expression), line: line)
        case let .assignBlock(target, body, line):
            let saved = output
            output = ""
            _ = try execute(body)
            let captured = output
            output = saved
            try assign(target, .string(captured), line: line)
        case let .macro(macro):
            scopes[scopes.count - 1][macro.name] = .macro(macro)
        case let .callBlock(call, parameters, body, line):
            let caller = JinjaMacro(name: "caller", parameters: parameters, body: body)
            scopes.append(["caller": .macro(caller)])
            defer { scopes.removeLast() }
            try emit(try evaluate(call).text, line: line)
        case let .filterBlock(name, arguments, body, line):
            let saved = output
            output = ""
            _ = try execute(body)
            let captured = output
            output = saved
            let values = try arguments.map { expression throws(JinjaError) in try evaluate(expression) }
            try emit(try applyFilter(name, to: .string(captured), arguments: values, keywords: [], line: line).text, line: line)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    private func loop(targets: [String], iterable: JinjaExpression, filter: JinjaExpression?, body: [JinjaNode],
                      otherwise: [JinjaNode], line: Int) throws(JinjaError) -> Flow {
        var items = try iterate(try evaluate(iterable), line: line)
        if let filter {
            var kept: [JinjaValue] = []
            for item in items {
                scopes.append([:])
                try bind(targets, to: item, line: line)
                let keep = try evaluate(filter).isTruthy
                scopes.removeLast()
                if keep { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty { return try execute(otherwise) }
        for (index, item) in items.enumerated() {
            iterations += 1
            if iterations > limits.iterations { throw .limit(line: line, message: "more than \(limits.iterations) loop iterations") }
            var loop = JinjaObject()
            loop["index"] = .int(index + 1)
            loop["index0"] = .int(index)
            loop["revindex"] = .int(items.count - index)
            loop["revindex0"] = .int(items.count - index - 1)
            loop["first"] = .bool(index == 0)
            loop["last"] = .bool(index == items.count - 1)
            loop["length"] = .int(items.count)
            loop["previtem"] = index > 0 ? items[index - 1] : .undefined("loop.previtem")
            loop["nextitem"] = index + 1 < items.count ? items[index + 1] : .undefined("loop.nextitem")
            loop["cycle"] = .function(JinjaFunction(name: "cycle") { args, _ in args.isEmpty ? .none : args[index % args.count] })
            scopes.append(["loop": .object(loop)])
            defer { scopes.removeLast() }
            try bind(targets, to: item, line: line)
            if try execute(body) == .breakLoop { break }
        }
        return .normal
    }

    /// The elements a `for` walks: list items, dictionary keys, string characters.
    func iterate(_ value: JinjaValue, line: Int) throws(JinjaError) -> [JinjaValue] {
        switch value {
        case let .array(items): return items
        case let .object(object): return object.entries.map { .string($0.key) }
        case let .string(s): return s.map { .string(String($0)) }
        case .undefined: return []
        case let .namespace(ns): return ns.attributes.entries.map { .string($0.key) }
        default: throw .runtime(line: line, message: "\(value.typeName) is not iterable")
        }
    }

    private func bind(_ targets: [String], to item: JinjaValue, line: Int) throws(JinjaError) {
        if targets.count == 1 {
            scopes[scopes.count - 1][targets[0]] = item
            return
        }
        guard case let .array(parts) = item, parts.count == targets.count else {
            throw .runtime(line: line, message: "cannot unpack \(item.typeName) into \(targets.count) names")
        }
        for (name, part) in zip(targets, parts) { scopes[scopes.count - 1][name] = part }
    }

    private func assign(_ target: JinjaTarget, _ value: JinjaValue, line: Int) throws(JinjaError) {
        switch target {
        case let .name(name):
            scopes[scopes.count - 1][name] = value
        case let .names(names):
            try bind(names, to: value, line: line)
        case let .attribute(name, attribute):
            guard case let .namespace(ns) = lookup(name) else {
                throw .runtime(line: line, message: "cannot set attribute \(attribute) of \(name): only namespace() objects can be assigned to")
            }
            ns.attributes[attribute] = value
        }
    }

    func lookup(_ name: String) -> JinjaValue {
        for scope in scopes.reversed() {
            if let value = scope[name] { return value }
        }
        return global(name) ?? .undefined(name)
    }

    // MARK: Expressions

    func evaluate(_ expression: JinjaExpression) throws(JinjaError) -> JinjaValue {
        switch expression {
        case let .literal(value): return value
        case let .name(name, _): return lookup(name)
        case let .list(items): return .array(try items.map { e throws(JinjaError) in try evaluate(e) })
        case let .tuple(items): return .array(try items.map { e throws(JinjaError) in try evaluate(e) })
        case let .dict(pairs):
            var object = JinjaObject()
            for (key, value) in pairs {
                object[try evaluate(key).text] = try evaluate(value)
            }
            return .object(object)
        case let .attribute(base, name, line):
            return try attribute(try evaluate(base), name, line: line)
        case let .subscripted(base, index, line):
            return try subscripted(try evaluate(base), try evaluate(index), line: line)
        case let .slice(base, start, stop, step, line):
            return try slice(try evaluate(base), start: try start.map(evaluate), stop: try stop.map(evaluate), step: try step.map(evaluate), line: line)
        case let .call(callee, arguments, keywords, line):
            let positional = try arguments.map { e throws(JinjaError) in try evaluate(e) }
            var named: [(String, JinjaValue)] = []
            for (name, e) in keywords { named.append((name, try evaluate(e))) }
            if case let .attribute(baseExpression, method, _) = callee {
                let base = try evaluate(baseExpression)
                if let result = try callMethod(base, method, positional, named, line: line) { return result }
            }
            return try call(try evaluate(callee), positional, named, line: line)
        case let .filter(base, name, arguments, keywords, line):
            let value = try evaluate(base)
            let positional = try arguments.map { e throws(JinjaError) in try evaluate(e) }
            var named: [(String, JinjaValue)] = []
            for (name, e) in keywords { named.append((name, try evaluate(e))) }
            return try applyFilter(name, to: value, arguments: positional, keywords: named, line: line)
        case let .test(base, name, arguments, negated, line):
            let value = try evaluate(base)
            let positional = try arguments.map { e throws(JinjaError) in try evaluate(e) }
            let result = try applyTest(name, to: value, arguments: positional, line: line)
            return .bool(negated ? !result : result)
        case let .unary(op, operand, line):
            let value = try evaluate(operand)
            switch op {
            case "not": return .bool(!value.isTruthy)
            case "-":
                switch value {
                case let .int(i): return .int(-i)
                case let .double(d): return .double(-d)
                default: throw .runtime(line: line, message: "cannot negate \(value.typeName)")
                }
            default: return value
            }
        case let .binary(op, left, right, line):
            if op == "and" {
                let l = try evaluate(left)
                return l.isTruthy ? try evaluate(right) : l
            }
            if op == "or" {
                let l = try evaluate(left)
                return l.isTruthy ? l : try evaluate(right)
            }
            return try binary(op, try evaluate(left), try evaluate(right), line: line)
        case let .conditional(value, condition, otherwise, _):
            if try evaluate(condition).isTruthy { return try evaluate(value) }
            return try otherwise.map(evaluate) ?? .undefined("else")
        }
    }

    func attribute(_ base: JinjaValue, _ name: String, line: Int) throws(JinjaError) -> JinjaValue {
        switch base {
        case let .object(object): return object[name] ?? .undefined(name)
        case let .namespace(ns): return ns.attributes[name] ?? .undefined(name)
        case let .undefined(undefined): throw .runtime(line: line, message: "\(undefined) is undefined (reading .\(name))")
        case .none: throw .runtime(line: line, message: "None has no attribute \(name)")
        default: return .undefined(name)
        }
    }

    func subscripted(_ base: JinjaValue, _ index: JinjaValue, line: Int) throws(JinjaError) -> JinjaValue {
        switch (base, index) {
        case let (.array(items), .int(i)):
            let k = i < 0 ? items.count + i : i
            return k >= 0 && k < items.count ? items[k] : .undefined("[\(i)]")
        case let (.string(s), .int(i)):
            let characters = Array(s)
            let k = i < 0 ? characters.count + i : i
            return k >= 0 && k < characters.count ? .string(String(characters[k])) : .undefined("[\(i)]")
        case let (.object(object), key):
            return object[key.text] ?? .undefined(key.text)
        case let (.namespace(ns), key):
            return ns.attributes[key.text] ?? .undefined(key.text)
        case let (.undefined(name), _):
            throw .runtime(line: line, message: "\(name) is undefined (reading [\(index.text)])")
        default:
            return .undefined("[\(index.text)]")
        }
    }

    private func slice(_ base: JinjaValue, start: JinjaValue?, stop: JinjaValue?, step: JinjaValue?, line: Int) throws(JinjaError) -> JinjaValue {
        func int(_ value: JinjaValue?) throws(JinjaError) -> Int? {
            guard let value, value.isDefined else { return nil }
            if case .none = value { return nil }
            guard case let .int(i) = value else { throw .runtime(line: line, message: "slice indices must be integers") }
            return i
        }
        let step = try int(step) ?? 1
        guard step != 0 else { throw .runtime(line: line, message: "slice step cannot be zero") }
        func indices(_ count: Int) throws(JinjaError) -> [Int] {
            func clamp(_ i: Int?, _ defaultValue: Int, lower: Int, upper: Int) -> Int {
                guard var i else { return defaultValue }
                if i < 0 { i += count }
                return min(max(i, lower), upper)
            }
            if step > 0 {
                let a = clamp(try int(start), 0, lower: 0, upper: count), b = clamp(try int(stop), count, lower: 0, upper: count)
                return a < b ? Array(stride(from: a, to: b, by: step)) : []
            }
            let a = clamp(try int(start), count - 1, lower: -1, upper: count - 1), b = clamp(try int(stop), -1, lower: -1, upper: count - 1)
            return a > b ? Array(stride(from: a, to: b, by: step)) : []
        }
        switch base {
        case let .array(items): return .array(try indices(items.count).map { items[$0] })
        case let .string(s):
            let characters = Array(s)
            return .string(String(try indices(characters.count).map { characters[$0] }))
        default: throw .runtime(line: line, message: "cannot slice \(base.typeName)")
        }
    }

    func call(_ callee: JinjaValue, _ positional: [JinjaValue], _ keywords: [(String, JinjaValue)], line: Int) throws(JinjaError) -> JinjaValue {
        switch callee {
        case let .function(function):
            do { return try function.call(positional, keywords) } catch {
                switch error {
                case let .raised(0, message): throw .raised(line: line, message: message)
                case let .runtime(0, message): throw .runtime(line: line, message: message)
                case let .limit(0, message): throw .limit(line: line, message: message)
                default: throw error
                }
            }
        case let .macro(macro):
            depth += 1
            defer { depth -= 1 }
            guard depth <= limits.callDepth else { throw .limit(line: line, message: "macros nest deeper than \(limits.callDepth)") }
            var scope: [String: JinjaValue] = [:]
            for (index, parameter) in macro.parameters.enumerated() {
                if index < positional.count {
                    scope[parameter.name] = positional[index]
                } else if let keyword = keywords.first(where: { $0.0 == parameter.name }) {
                    scope[parameter.name] = keyword.1
                } else {
                    scope[parameter.name] = try parameter.defaultValue.map(evaluate) ?? .undefined(parameter.name)
                }
            }
            scope["varargs"] = .array(Array(positional.dropFirst(macro.parameters.count)))
            if let caller = lookupCaller() { scope["caller"] = caller }
            let saved = output
            output = ""
            scopes.append(scope)
            defer { scopes.removeLast() }
            _ = try execute(macro.body)
            let result = output
            output = saved
            return .string(result)
        case let .undefined(name):
            throw .runtime(line: line, message: "\(name) is undefined and cannot be called")
        default:
            throw .runtime(line: line, message: "\(callee.typeName) is not callable")
        }
    }

    private func lookupCaller() -> JinjaValue? {
        if case .macro = lookup("caller") { return lookup("caller") }
        return nil
    }
}

extension JinjaExpression {
    var line: Int {
        switch self {
        case .literal, .list, .tuple, .dict: 0
        case let .name(_, line), let .attribute(_, _, line), let .subscripted(_, _, line), let .slice(_, _, _, _, line),
             let .call(_, _, _, line), let .filter(_, _, _, _, line), let .test(_, _, _, _, line), let .unary(_, _, line),
             let .binary(_, _, _, line), let .conditional(_, _, _, line): line
        }
    }
}
