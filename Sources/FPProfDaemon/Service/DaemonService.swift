import FPProfSampler
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// The daemon as a swift-service-lifecycle `Service`: starts one `TargetRunner` per configured target, tells
/// systemd when sampling runs, reloads on SIGHUP, pets the watchdog, and on graceful shutdown (SIGTERM, SIGINT,
/// through the `ServiceGroup`) writes every target's partial window and returns.
public final class DaemonService: Service {
    private let configPath: String
    /// Parses each reloaded config in a child first: an edit that makes the TOML parser abort is refused, not fatal.
    private let vetter: SyntaxVetter?
    private let logger: Logger
    private let notifier: SystemdNotifier
    public let counters = DaemonCounters()
    private let state: Locked<State>

    private struct State {
        var config: DaemonConfig
        var runners: [String: TargetRunner] = [:]
        var stopping = false
    }

    public init(
        config: DaemonConfig, configPath: String, vetter: SyntaxVetter? = SyntaxVetter(), logger: Logger,
        notifier: SystemdNotifier = SystemdNotifier()
    ) {
        self.configPath = configPath
        self.vetter = vetter
        self.logger = logger
        self.notifier = notifier
        state = Locked(State(config: config))
    }

    /// The configuration running now (the last one a reload accepted).
    public var currentConfig: DaemonConfig { state.withLock { $0.config } }

    public func run() async throws {
        // The capability check comes first, so that a unit missing CAP_PERFMON fails at start with a message that
        // names it, whatever the targets.
        do { try SamplingSession.checkSamplingPermission() } catch {
            throw DaemonError(TargetRunner.explain(error))
        }
        let config = state.withLock { $0.config }
        var runners: [String: TargetRunner] = [:]
        for target in config.targets {
            let runner = try TargetRunner(spec: Self.spec(target, config), logger: logger, counters: counters)
            try runner.prepare()
            runners[target.name] = runner
        }
        state.withLock { $0.runners = runners }
        let hangups = await UnixSignalsSequence(trapping: .sighup)

        await withDiscardingTaskGroup { group in
            for runner in runners.values { group.addTask { await runner.run() } }
            if let interval = notifier.watchdogInterval() {
                group.addTask { [self] in
                    while !state.withLock({ $0.stopping }) {
                        notifier.watchdog()
                        try? await Task.sleep(for: min(interval, .milliseconds(500)))
                        // Sleep the rest of the interval in short steps, so that shutdown is not held up.
                        var slept = min(interval, .milliseconds(500))
                        while slept < interval, !state.withLock({ $0.stopping }) {
                            try? await Task.sleep(for: .milliseconds(100))
                            slept += .milliseconds(100)
                        }
                    }
                }
            }
            notifier.ready(status: "sampling \(runners.count) target(s)")
            counters.activity.setPhase(.sampling(targets: runners.count))
            logger.info(
                "sampling",
                metadata: [
                    "targets": "\(runners.keys.sorted().joined(separator: ","))",
                    "config": "\(configPath)",
                ])
            for await _ in hangups.cancelOnGracefulShutdown() {
                reload(group: &group)
            }
            notifier.stopping()
            counters.activity.setPhase(.stopping)
            logger.info("stopping: writing the partial windows")
            let current = state.withLock { s in
                s.stopping = true
                return Array(s.runners.values)
            }
            for runner in current { runner.requestStop() }
        }
        logger.info("stopped")
    }

    /// Reads the config again. A broken one is logged and the running one kept; a valid one is applied: targets
    /// that are gone or changed stop (their last window written), new and changed ones start, and the unchanged
    /// ones go on with their current window.
    private func reload(group: inout DiscardingTaskGroup) {
        notifier.reloading()
        defer { notifier.ready(status: "reloaded") }
        let config: DaemonConfig
        do { config = try ConfigParser.load(path: configPath, vetter: vetter) } catch {
            logger.error("reload refused, keeping the running configuration", metadata: ["error": "\(error)"])
            return
        }
        let old = state.withLock { $0.runners }
        var kept: [String: TargetRunner] = [:]
        var started: [TargetRunner] = []
        for target in config.targets {
            let spec = Self.spec(target, config)
            if let runner = old[target.name], runner.spec == spec {
                kept[target.name] = runner
                continue
            }
            do {
                let runner = try TargetRunner(spec: spec, logger: logger, counters: counters)
                try runner.prepare()
                started.append(runner)
            } catch {
                logger.error("target not started", metadata: ["target": "\(target.name)", "error": "\(error)"])
            }
        }
        for (name, runner) in old where kept[name] == nil {
            runner.requestStop()
            logger.info("target removed or changed", metadata: ["target": "\(name)"])
        }
        for runner in started {
            kept[runner.name] = runner
            group.addTask { await runner.run() }
            logger.info("target started", metadata: ["target": "\(runner.name)"])
        }
        counters.forget(except: Set(kept.keys))
        counters.activity.setPhase(.sampling(targets: kept.count))
        state.withLock { s in
            s.config = config
            s.runners = kept
        }
        logger.info("configuration reloaded", metadata: ["targets": "\(kept.keys.sorted().joined(separator: ","))"])
    }

    static func spec(_ target: TargetConfig, _ config: DaemonConfig) -> TargetSpec {
        TargetSpec(
            target: target, stateDirectory: config.stateDirectory, window: config.window,
            symbolMemory: config.symbolMemory)
    }
}
