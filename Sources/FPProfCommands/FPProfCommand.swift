import ArgumentParser

/// The `fpprof` command tree. Subcommands are nested types; the executable only calls `main()`.
public struct FPProfCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fpprof",
        abstract: "A sampling profiler for Linux that unwinds frame pointers and never loops on a broken chain.",
        version: "0.1.0",
        subcommands: [
            RecordCommand.self, ReportCommand.self, FPCheckCommand.self, SymbolizeCommand.self, DaemonCommand.self,
        ]
    )

    public init() {}
}
