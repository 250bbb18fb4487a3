import FPProfCommands

FPProfCommand.main()
