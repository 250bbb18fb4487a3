import FPProfCommands

/// The executable makes sure descriptors 0-2 are taken, then hands the command line to the command tree.
@main enum Entry {
    static func main() async {
        StandardStreams.reserve()
        await FPProfCommand.main()
    }
}
