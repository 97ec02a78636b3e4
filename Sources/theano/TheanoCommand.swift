import ArgumentParser

@main
struct TheanoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "theano",
        abstract: "Symbolic tensor expressions compiled to fast functions: examples and tools.",
        subcommands: [Train.self, Bench.self, VizCommand.self, CacheCommand.self, InfoCommand.self, MPICommand.self]
    )
}
