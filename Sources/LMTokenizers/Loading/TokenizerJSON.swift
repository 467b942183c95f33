#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `tokenizer.json` as Hugging Face `tokenizers` writes it, decoded into the pipeline types.
/// Components are polymorphic on their "type" key; unknown types are reported by name.
enum TokenizerJSON {
    struct Key: CodingKey {
        let stringValue: String
        init(_ string: String) { stringValue = string }
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    /// The whole file: component descriptions with the file name for errors.
    struct File: Decodable {
        var addedTokens: [AddedTokenEntry]
        var normalizer: Component?
        var preTokenizer: Component?
        var postProcessor: Component?
        var decoder: Component?
        var model: ModelEntry

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            addedTokens = try c.decodeIfPresent([AddedTokenEntry].self, forKey: Key("added_tokens")) ?? []
            normalizer = try c.decodeIfPresent(Component.self, forKey: Key("normalizer"))
            preTokenizer = try c.decodeIfPresent(Component.self, forKey: Key("pre_tokenizer"))
            postProcessor = try c.decodeIfPresent(Component.self, forKey: Key("post_processor"))
            self.decoder = try c.decodeIfPresent(Component.self, forKey: Key("decoder"))
            model = try c.decode(ModelEntry.self, forKey: Key("model"))
        }
    }

    struct AddedTokenEntry: Decodable {
        var id: Int32
        var content: String
        var singleWord: Bool?
        var lstrip: Bool?
        var rstrip: Bool?
        var normalized: Bool?
        var special: Bool?
        enum CodingKeys: String, CodingKey {
            case id, content, lstrip, rstrip, normalized, special
            case singleWord = "single_word"
        }

        var token: AddedToken {
            AddedToken(content: content, id: id, special: special ?? false, lstrip: lstrip ?? false, rstrip: rstrip ?? false,
                       singleWord: singleWord ?? false, normalized: normalized ?? !(special ?? false))
        }
    }

    /// Any JSON value, for the components' loosely typed fields.
    indirect enum Component: Decodable {
        case object([String: Component])
        case array([Component])
        case string(String)
        case number(Double)
        case bool(Bool)
        case null

        init(from decoder: any Decoder) throws {
            if let c = try? decoder.container(keyedBy: Key.self) {
                var object: [String: Component] = [:]
                for key in c.allKeys { object[key.stringValue] = try c.decode(Component.self, forKey: key) }
                self = .object(object)
            } else if var c = try? decoder.unkeyedContainer() {
                var array: [Component] = []
                while !c.isAtEnd { array.append(try c.decode(Component.self)) }
                self = .array(array)
            } else {
                let c = try decoder.singleValueContainer()
                if c.decodeNil() { self = .null }
                else if let b = try? c.decode(Bool.self) { self = .bool(b) }
                else if let n = try? c.decode(Double.self) { self = .number(n) }
                else { self = .string(try c.decode(String.self)) }
            }
        }

        subscript(key: String) -> Component? {
            guard case let .object(o) = self, let value = o[key] else { return nil }
            if case .null = value { return nil }
            return value
        }
        var string: String? { if case let .string(s) = self { return s }; return nil }
        var bool: Bool? { if case let .bool(b) = self { return b }; return nil }
        var int: Int? { if case let .number(n) = self { return Int(n) }; return nil }
        var array: [Component]? { if case let .array(a) = self { return a }; return nil }
        var type: String { self["type"]?.string ?? "?" }
    }

    /// `model`: vocabulary and merges decoded directly (the bulk of the file).
    struct ModelEntry: Decodable {
        var type: String
        var vocab: [String: Int32]
        var merges: [(String, String)]
        var unknownToken: String?
        var fuseUnknown: Bool
        var byteFallback: Bool
        var ignoreMerges: Bool
        var continuingSubwordPrefix: String?
        var endOfWordSuffix: String?

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            type = try c.decodeIfPresent(String.self, forKey: Key("type")) ?? "BPE"
            guard type == "BPE" else {
                vocab = [:]; merges = []; fuseUnknown = false; byteFallback = false; ignoreMerges = false
                return
            }
            vocab = try c.decode([String: Int32].self, forKey: Key("vocab"))
            if let pairs = try? c.decode([[String]].self, forKey: Key("merges")) {
                merges = try pairs.map { pair in
                    guard pair.count == 2 else {
                        throw DecodingError.dataCorruptedError(forKey: Key("merges"), in: c, debugDescription: "a merge must have two parts")
                    }
                    return (pair[0], pair[1])
                }
            } else {
                let lines = try c.decodeIfPresent([String].self, forKey: Key("merges")) ?? []
                merges = try lines.map { line in
                    let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                    guard parts.count == 2 else {
                        throw DecodingError.dataCorruptedError(forKey: Key("merges"), in: c, debugDescription: "merge \"\(line)\" is not \"left right\"")
                    }
                    return (String(parts[0]), String(parts[1]))
                }
            }
            unknownToken = try c.decodeIfPresent(String.self, forKey: Key("unk_token"))
            fuseUnknown = try c.decodeIfPresent(Bool.self, forKey: Key("fuse_unk")) ?? false
            byteFallback = try c.decodeIfPresent(Bool.self, forKey: Key("byte_fallback")) ?? false
            ignoreMerges = try c.decodeIfPresent(Bool.self, forKey: Key("ignore_merges")) ?? false
            continuingSubwordPrefix = try c.decodeIfPresent(String.self, forKey: Key("continuing_subword_prefix"))
            endOfWordSuffix = try c.decodeIfPresent(String.self, forKey: Key("end_of_word_suffix"))
        }
    }
}
