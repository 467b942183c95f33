import ArgumentParser

@main
struct Peregrine: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peregrine",
        abstract: "Peregrine: an LLM inference and serving engine.",
        version: "0.1.0",
        subcommands: [ServeCommand.self, GenerateCommand.self, TokenizeCommand.self, TemplateCommand.self, InfoCommand.self, BenchCommand.self, CheckBackendCommand.self])
}
