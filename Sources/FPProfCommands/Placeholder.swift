import ArgumentParser

public struct FPProfCommand: ParsableCommand {
    public init() {}
    public func run() throws {}
}
