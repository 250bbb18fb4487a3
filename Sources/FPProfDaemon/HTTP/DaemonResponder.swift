import FPProfCore
import Foundation
import Hummingbird
import Logging

/// Every request of the HTTP side: one responder that routes by path, checks the bearer token (all but `/healthz`),
/// answers errors as one plain-text line with the right status (as Go's `net/http/pprof` does) and counts each
/// answer in `/metrics` by endpoint class and code.
struct DaemonResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let daemon: DaemonService
    let token: [UInt8]?
    let maxProfileSeconds: Int
    let profiler: OnDemandProfiler
    let metrics: DaemonMetrics
    let logger: Logger

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        let endpoint = RequestClass(path: path)
        let response: Response
        do {
            guard request.method == .get || request.method == .head else {
                throw HTTPProblem(405, "only GET is served")
            }
            if endpoint != .healthz, let token, !authorized(request, token: token) {
                throw HTTPProblem(401, "a bearer token is required (Authorization: Bearer <token>)")
            }
            response = try await route(endpoint, path: path, request: request)
        } catch let problem as HTTPProblem {
            response = Self.text(problem.message + "\n", status: problem.status)
        }
        metrics.countRequest(endpoint: endpoint.rawValue, status: response.status.code)
        return response
    }

    private func route(_ endpoint: RequestClass, path: String, request: Request) async throws(HTTPProblem)
        -> Response
    {
        let config = daemon.currentConfig
        let query = request.uri.queryParameters
        switch endpoint {
        case .healthz:
            switch daemon.counters.activity.phase {
            case .sampling(let targets): return Self.text("ok: sampling \(targets) target(s)\n", status: 200)
            case .starting: throw HTTPProblem(503, "not sampling yet: the daemon is starting")
            case .stopping: throw HTTPProblem(503, "not sampling: the daemon is stopping")
            }
        case .metrics:
            return Self.body(
                Array(metrics.scrape(counters: daemon.counters).utf8),
                contentType: "text/plain; version=0.0.4; charset=utf-8")
        case .page:
            let page = StatusPage(config: config, counters: daemon.counters).html()
            return Self.body(Array(page.utf8), contentType: "text/html; charset=utf-8")
        case .pprofIndex:
            return Self.body(Array(PprofIndex.html(config: config).utf8), contentType: "text/html; charset=utf-8")
        case .profile:
            let seconds = try Self.seconds(query["seconds"].map(String.init), bound: maxProfileSeconds)
            let plan = try ProfilePlan.resolve(
                target: query["target"].map(String.init), pid: query["pid"].map(String.init), config: config)
            logger.info(
                "on-demand profile", metadata: ["seconds": "\(seconds)", "targets": "\(plan.targets.count)"])
            let bytes = try await profiler.profile(plan, seconds: seconds)
            HeapTrim.afterPeak()  // the request's engines and symbolizers are gone by now
            var response = Self.body(bytes, contentType: "application/octet-stream")
            response.headers[.contentDisposition] = "attachment; filename=\"profile\""
            return response
        case .targets:
            return try WindowFiles(config: config).response(path: path)
        case .other:
            throw HTTPProblem(404, "not found: \(path)")
        }
    }

    /// `seconds=`: Go's default of 30, a positive integer, at most `[http] max_profile_seconds`.
    static func seconds(_ value: String?, bound: Int) throws(HTTPProblem) -> Int {
        guard let value else { return min(30, bound) }
        guard let seconds = Int(value), seconds > 0 else {
            throw HTTPProblem(400, "bad seconds: \"\(value)\" is not a positive whole number")
        }
        guard seconds <= bound else {
            throw HTTPProblem(400, "profile duration \(seconds)s exceeds the server's bound of \(bound)s")
        }
        return seconds
    }

    /// Compares in time independent of where the first difference is.
    private func authorized(_ request: Request, token: [UInt8]) -> Bool {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.dropFirst(7).utf8)
        guard given.count == token.count else { return false }
        return zip(given, token).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func text(_ text: String, status: Int) -> Response {
        var response = body(Array(text.utf8), contentType: "text/plain; charset=utf-8", status: status)
        response.headers[.xContentTypeOptions] = "nosniff"
        if status == 401 { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }

    static func body(_ bytes: [UInt8], contentType: String, status: Int = 200) -> Response {
        Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// The endpoints, as the `endpoint` label of `fpprof_http_requests_total`: a fixed set, whatever paths clients ask.
enum RequestClass: String {
    case page = "/"
    case healthz = "/healthz"
    case metrics = "/metrics"
    case pprofIndex = "/debug/pprof/"
    case profile = "/debug/pprof/profile"
    case targets = "/targets/"
    case other

    init(path: String) {
        switch path {
        case "/healthz": self = .healthz
        case "/metrics": self = .metrics
        case "/debug/pprof", "/debug/pprof/": self = .pprofIndex
        case "/debug/pprof/profile": self = .profile
        case _ where path.hasPrefix("/targets/"): self = .targets
        case "/": self = .page
        default: self = .other
        }
    }
}
