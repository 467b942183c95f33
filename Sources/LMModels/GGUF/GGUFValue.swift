/// A GGUF metadata value (all thirteen wire types; integers and floats widened).
public enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
    case uint(UInt64)
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])

    public var intValue: Int? {
        switch self {
        case let .uint(v): v <= UInt64(Int.max) ? Int(v) : nil
        case let .int(v): Int(v)
        default: nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case let .float(v): v
        case let .uint(v): Double(v)
        case let .int(v): Double(v)
        default: nil
        }
    }

    public var stringValue: String? {
        if case let .string(v) = self { return v }
        return nil
    }

    public var boolValue: Bool? {
        if case let .bool(v) = self { return v }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case let .array(v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case let .uint(v): "\(v)"
        case let .int(v): "\(v)"
        case let .float(v): "\(v)"
        case let .bool(v): "\(v)"
        case let .string(v): v.count > 60 ? "\"\(v.prefix(60))…\"" : "\"\(v)\""
        case let .array(v): "[\(v.count) values]"
        }
    }
}
