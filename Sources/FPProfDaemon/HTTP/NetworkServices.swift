import Logging
import ServiceLifecycle

extension DaemonService {
    /// The services beside the daemon's own in its `ServiceGroup`: the HTTP server when `[http] listen` is set,
    /// one uploader per `[[upload]]`. They are made from the configuration at start; a reload changes targets,
    /// not these (a changed `[http]` or `[[upload]]` takes effect at the next restart).
    public func networkServices(logger: Logger) throws(DaemonError) -> [any Service] {
        let config = currentConfig
        let metrics = DaemonMetrics()
        var services: [any Service] = []
        if let http = config.http {
            services.append(try DaemonHTTPServer.make(config: http, daemon: self, metrics: metrics, logger: logger))
        }
        for (index, upload) in config.uploads.enumerated() {
            services.append(
                try PyroscopeUploader(
                    config: upload, index: index, daemon: config, activity: counters.activity, metrics: metrics,
                    logger: logger))
        }
        return services
    }
}
