/// Renders a model's chat template the way transformers' `apply_chat_template` does.
public struct ChatTemplate: Sendable {
    public let template: JinjaTemplate

    public init(_ source: String) throws(JinjaError) {
        template = try JinjaTemplate(source)
    }

    /// - Parameters:
    ///   - messages: message objects ({"role", "content", ...}); keys whose value is null are
    ///     dropped first, as transformers does.
    ///   - tools: tool schemas, or nil (the template then sees `tools` as none).
    ///   - continueFinalMessage: render the last message open-ended, for the model to continue it.
    ///   - extra: further variables (`chat_template_kwargs`).
    public func render(messages: [JinjaValue], tools: [JinjaValue]? = nil, addGenerationPrompt: Bool = false,
                       continueFinalMessage: Bool = false, bosToken: String? = nil, eosToken: String? = nil,
                       extra: JinjaObject = JinjaObject(), now: JinjaClock = .system,
                       limits: JinjaTemplate.Limits = JinjaTemplate.Limits()) throws(JinjaError) -> String {
        let tag = "CONTINUE_FINAL_MESSAGE_TAG "
        var cleaned = messages.map(Self.droppingNulls)
        if continueFinalMessage, case var .object(last)? = cleaned.last {
            last["content"] = .string((last["content"]?.text ?? "") + tag)
            cleaned[cleaned.count - 1] = .object(last)
        }
        var context = JinjaObject()
        context["messages"] = .array(cleaned)
        context["tools"] = tools.map(JinjaValue.array) ?? JinjaValue.none
        context["documents"] = JinjaValue.none
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        if let bosToken { context["bos_token"] = .string(bosToken) }
        if let eosToken { context["eos_token"] = .string(eosToken) }
        for (key, value) in extra.entries { context[key] = value }
        var rendered = try template.render(context, now: now, limits: limits)
        if continueFinalMessage {
            let marker = String(tag.dropLast())
            guard let range = rendered.ranges(of: marker).last else {
                throw .runtime(line: 0, message: "continue_final_message: the template did not render the final message's content")
            }
            let followedBySpace = rendered[range.upperBound...].hasPrefix(" ")
            rendered = String(rendered[..<range.lowerBound])
            if !followedBySpace {
                while let last = rendered.unicodeScalars.last, last.properties.isWhitespace { rendered.unicodeScalars.removeLast() }
            }
        }
        return rendered
    }

    static func droppingNulls(_ message: JinjaValue) -> JinjaValue {
        guard case let .object(object) = message else { return message }
        return .object(JinjaObject(object.entries.compactMap { entry in
            if case .none = entry.value { return nil }
            return (entry.key, entry.value)
        }))
    }
}
