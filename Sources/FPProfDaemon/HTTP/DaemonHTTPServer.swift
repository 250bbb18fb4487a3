import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The HTTP side of the daemon (`[http]`): a Hummingbird server run as one more service of the daemon's
/// `ServiceGroup`, so that it starts with it and stops on the same graceful shutdown.
public enum DaemonHTTPServer {
    /// The server for `config`, answering from `daemon`'s state. Refuses at start what the config check lets
    /// through only by mistake: a non-loopback address without `allow_remote`, a token file that cannot be read
    /// or is empty.
    public static func make(config: HTTPConfig, daemon: DaemonService, metrics: DaemonMetrics, logger: Logger)
        throws(DaemonError) -> any Service
    {
        guard let address = ListenAddress(config.listen) else {
            throw DaemonError("[http] listen: expected host:port, got \"\(config.listen)\"")
        }
        guard address.isLoopback || config.allowRemote else {
            throw DaemonError(
                "[http] listen = \"\(config.listen)\" is not a loopback address; set allow_remote = true to serve it")
        }
        var token: [UInt8]?
        if let path = config.tokenFile {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw DaemonError("[http] token_file: cannot read \(path)")
            }
            let line = text.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !line.isEmpty else { throw DaemonError("[http] token_file: \(path) is empty") }
            token = Array(line.utf8)
        }
        var serverLogger = logger
        serverLogger[metadataKey: "component"] = "http"
        // Hummingbird logs each request at debug level and its start at info; the daemon's level decides.
        let responder = DaemonResponder(
            daemon: daemon, token: token, maxProfileSeconds: config.maxProfileSeconds,
            profiler: OnDemandProfiler(logger: serverLogger), metrics: metrics, logger: serverLogger)
        let listen = config.listen
        let auth = token == nil ? "none" : "bearer"
        let runningLogger = serverLogger
        return Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port)),
            onServerRunning: { _ in
                runningLogger.info("http listening", metadata: ["address": "\(listen)", "auth": "\(auth)"])
            },
            logger: serverLogger)
    }
}
