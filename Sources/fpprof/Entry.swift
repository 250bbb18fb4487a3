import FPProfCommands

/// The executable only hands the command line to the command tree.
@main enum Entry {
    static func main() async {
        await FPProfCommand.main()
    }
}
