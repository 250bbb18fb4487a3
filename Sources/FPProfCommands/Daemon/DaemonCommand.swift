import ArgumentParser
import FPProfDaemon
import Logging
import ServiceLifecycle

/// `fpprof daemon`: the continuous-profiling service. Parses, checks the config, bootstraps logging and hands the
/// work to `FPProfDaemon.DaemonService` inside a `ServiceGroup`.
struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Profile the configured targets continuously, one profile file per target and window.",
        discussion: """
            Runs until SIGTERM or SIGINT (the partial windows are written), reloads the config on SIGHUP. Under \
            systemd (systemd/fpprof.service) it reports readiness and pets the watchdog. Every key of the config \
            is documented in config/fpprof.toml.
            Examples:
              fpprof daemon --config /etc/fpprof/fpprof.toml
              fpprof daemon --check-config ./fpprof.toml     (exit 0 if valid, 1 with the line and key if not)
            """
    )

    @Option(help: "The configuration file.")
    var config: String = "/etc/fpprof/fpprof.toml"

    @Option(name: .customLong("check-config"), help: "Only check this configuration file: exit 0 if valid, 1 if not.")
    var checkConfig: String?

    /// The child of `SyntaxVetter`: parse the TOML on standard input and exit 0.
    @Flag(name: .customLong("vet-toml"), help: .hidden)
    var vetTOML = false

    func run() async throws {
        if vetTOML { SyntaxVetter.runChild() }
        let vetter = SyntaxVetter()
        if let path = checkConfig {
            do {
                let parsed = try ConfigParser.load(path: path, vetter: vetter)
                StandardError.write(
                    "fpprof: \(path): configuration is valid (\(parsed.targets.count) target(s))\n")
                return
            } catch {
                StandardError.write("fpprof: \(error)\n")
                throw FPProfExit.failure
            }
        }
        let style = DaemonLogHandler.detectedStyle()
        LoggingSystem.bootstrap { label in DaemonLogHandler(label: label, style: style) }
        let logger = Logger(label: "fpprof.daemon")
        let parsed: DaemonConfig
        do { parsed = try ConfigParser.load(path: config, vetter: vetter) } catch {
            logger.critical("invalid configuration", metadata: ["error": "\(error)"])
            throw FPProfExit.failure
        }
        let service = DaemonService(config: parsed, configPath: config, vetter: vetter, logger: logger)
        let network: [any Service]
        do { network = try service.networkServices(logger: logger) } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw FPProfExit.failure
        }
        let group = ServiceGroup(
            services: [service] + network, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        do { try await group.run() } catch {
            logger.critical("cannot run", metadata: ["error": "\(Self.reason(error))"])
            throw FPProfExit.failure
        }
    }

    /// The service group rethrows the service's own error: its message, not the type's dump.
    static func reason(_ error: any Error) -> String {
        (error as? DaemonError)?.description ?? "\(error)"
    }
}
