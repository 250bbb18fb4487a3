import AsyncHTTPClient
import FPProfSampler
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// One `[[upload]]` block: pushes every window's pprof to a Pyroscope-compatible `POST {url}/ingest`, as
/// Pyroscope's HTTP ingest API documents it (`name=<app>.cpu{labels}`, `from`, `until` in Unix seconds,
/// `format=pprof`, `sampleRate`, `spyName`; the profile as the `profile` part of a multipart form).
///
/// Nothing here blocks sampling: the window listener only appends to `pending`; this service's own task moves
/// windows to the spool on disk and sends them oldest first. A failed send leaves the window in the spool and
/// waits (1 s, doubling to `maxBackoff`) before the next try; windows arrive in order.
///
/// Bounds: `pending` holds at most `maxPending` windows (the oldest dropped and counted); the spool its
/// `spool_max_bytes`.
public final class PyroscopeUploader: Service {
    static let maxPending = 64
    static let maxBackoff: Duration = .seconds(30)

    struct Pending: Sendable {
        var record: WindowRecord
        var pid: Int32?
        var bytes: [UInt8]
    }

    private let config: UploadConfig
    private let daemon: DaemonConfig
    private let logger: Logger
    private let metrics: DaemonMetrics
    private let pending = PendingWindows()
    private let authorization: String?
    private let spoolFolder: String

    public init(
        config: UploadConfig, index: Int, daemon: DaemonConfig, activity: DaemonActivity, metrics: DaemonMetrics,
        logger: Logger
    ) throws(DaemonError) {
        self.config = config
        self.daemon = daemon
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "upload"] = "\(Self.redacted(config.url))"
        self.logger = logger
        spoolFolder = daemon.stateDirectory + "/.spool/upload-\(index)"
        func secret(_ path: String) throws(DaemonError) -> String {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                let line = text.split(separator: "\n").first, !line.isEmpty
            else { throw DaemonError("[[upload]] \(config.url): cannot read a secret from \(path)") }
            return String(line)
        }
        if let user = config.basicAuthUser {
            let password = try config.passwordFile.map(secret) ?? ""
            authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        } else if let tokenFile = config.tokenFile {
            authorization = "Bearer " + (try secret(tokenFile))
        } else {
            authorization = nil
        }
        activity.addListener { [pending] record, outputs in
            pending.windows.withLock { list in
                for (pid, bytes) in outputs.sorted(by: { ($0.key ?? -1) < ($1.key ?? -1) }) {
                    list.append(Pending(record: record, pid: pid, bytes: bytes))
                }
                if list.count > Self.maxPending { list.removeFirst(list.count - Self.maxPending) }
            }
        }
    }

    private var receiver: [(String, String)] { [("receiver", Self.redacted(config.url))] }

    public func run() async throws {
        var spool: UploadSpool
        do { spool = try UploadSpool(folder: spoolFolder, maxBytes: config.spoolMaxBytes) } catch {
            throw DaemonError("[[upload]] \(config.url): cannot create the spool \(spoolFolder): \(error)")
        }
        // A client of its own: a receiver that refuses connections fails the send at once, and this spool's
        // backoff (not the client's own retries until the deadline) decides when to try again.
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        var backoff: Duration = .zero
        var nextTry = ContinuousClock.now
        let attempts = metrics.counter(
            "fpprof_upload_attempts_total", receiver, help: "Windows sent to an upload receiver, tries included.")
        let failures = metrics.counter(
            "fpprof_upload_failures_total", receiver, help: "Sends to an upload receiver that failed.")
        let dropped = metrics.counter(
            "fpprof_upload_spool_dropped_total", receiver,
            help: "Spooled windows dropped, oldest first, to keep the spool within spool_max_bytes.")
        let spooled = metrics.gauge(
            "fpprof_upload_spool_bytes", receiver, help: "Bytes of windows waiting in the spool for the receiver.")
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let arrived = pending.windows.withLock { list in
                defer { list = [] }
                return list
            }
            for window in arrived {
                let from = Int(window.record.start.timeIntervalSince1970)
                let until = from + max(1, Int(Double(window.record.duration.components.seconds).rounded()))
                let lost = spool.add(
                    window.bytes, from: from, until: until, pid: window.pid, target: window.record.target)
                if lost.files > 0 {
                    dropped.increment(by: Int64(lost.files))
                    logger.warning(
                        "spool full: oldest windows dropped",
                        metadata: ["files": "\(lost.files)", "bytes": "\(lost.bytes)"])
                }
            }
            if ContinuousClock.now >= nextTry {
                for entry in spool.entries() {
                    guard let body = spool.read(entry) else { continue }
                    attempts.increment()
                    do {
                        try await send(entry, body: body, client: client)
                        spool.remove(entry)
                        backoff = .zero
                    } catch {
                        failures.increment()
                        backoff = backoff == .zero ? .seconds(1) : min(backoff * 2, Self.maxBackoff)
                        nextTry = .now + backoff
                        logger.warning(
                            "upload failed; the window stays in the spool",
                            metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                        break
                    }
                }
            }
            spooled.set(Double(spool.bytes))
            try? await Task.sleep(for: .milliseconds(200))
        }
        try? await client.shutdown()
    }

    /// The request Pyroscope's ingest API documents, with the window's pprof as the multipart `profile` part.
    private func send(_ entry: UploadSpool.Entry, body: [UInt8], client: HTTPClient) async throws {
        let target = daemon.targets.first { $0.name == entry.target }
        var labels = config.labels.merging(target?.labels ?? [:]) { _, own in own }
        if labels["service_name"] == nil { labels["service_name"] = entry.target }
        if let pid = entry.pid { labels["pid"] = String(pid) }
        let name =
            "\(config.applicationName).cpu{"
            + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
        let rate = target?.sampling.frequency ?? daemon.sampling.frequency
        var components = URLComponents()
        components.queryItems = [
            URLQueryItem(name: "name", value: name), URLQueryItem(name: "from", value: String(entry.from)),
            URLQueryItem(name: "until", value: String(entry.until)), URLQueryItem(name: "format", value: "pprof"),
            URLQueryItem(name: "sampleRate", value: String(rate)), URLQueryItem(name: "spyName", value: "fpprof"),
        ]
        // Query values escaped for a URL query, "+" included (a literal plus would read as a space).
        let query = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        let base = config.url.hasSuffix("/") ? String(config.url.dropLast()) : config.url
        var request = HTTPClientRequest(url: base + "/ingest?" + query)
        request.method = .POST
        let boundary = "fpprof-" + UUID().uuidString
        request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        request.headers.add(name: "User-Agent", value: "fpprof")
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if let tenant = config.tenantID { request.headers.add(name: "X-Scope-OrgID", value: tenant) }
        var form = ByteBuffer()
        form.writeString(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"profile\"; filename=\"profile.pprof\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n")
        form.writeBytes(body)
        form.writeString("\r\n--\(boundary)--\r\n")
        request.body = .bytes(form)
        let response = try await client.execute(request, timeout: .seconds(40))
        let text = try await response.body.collect(upTo: 4096)
        guard (200..<300).contains(response.status.code) else {
            throw DaemonError("\(response.status.code) \(String(buffer: text).prefix(200))")
        }
    }

    /// The URL without user and password, for labels and logs.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.user = nil
        components.password = nil
        return components.string ?? url
    }
}

/// The windows handed over by the listener and not yet spooled (a class, so the listener can hold it).
final class PendingWindows: Sendable {
    let windows = Locked<[PyroscopeUploader.Pending]>([])
}
