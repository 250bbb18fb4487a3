import Foundation
import Hummingbird

/// `GET /targets/NAME/latest.{pb.gz,folded,svg,speedscope.json}` (the newest window file of that format) and
/// `GET /targets/NAME/files/FILE` (one window file, as the status page links them). Only configured targets and
/// names that are window files in the target's own folder are served: nothing a path could climb out of.
struct WindowFiles {
    let config: DaemonConfig

    func response(path: String) throws(HTTPProblem) -> Response {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst(2).map(String.init)
        guard let name = parts.first, let target = config.targets.first(where: { $0.name == name }) else {
            throw HTTPProblem(404, "no configured target in \(path)")
        }
        let folder = config.stateDirectory + "/" + target.name
        let file: String
        let rest = Array(parts.dropFirst())
        if rest.count == 1, let latest = rest.first, latest.hasPrefix("latest.") {
            let ext = String(latest.dropFirst("latest.".count))
            guard let format = WindowFormat.allCases.first(where: { $0.fileExtension == ext }) else {
                throw HTTPProblem(404, "no such format: \(ext) (pb.gz, folded, svg or speedscope.json)")
            }
            guard let newest = Self.windowFiles(in: folder).last(where: { $0.hasSuffix("." + format.fileExtension) })
            else {
                throw HTTPProblem(404, "target \"\(name)\" has no \(ext) window yet (formats: \(Self.formats(target)))")
            }
            file = newest
        } else if rest.count == 2, rest[0] == "files" {
            let requested = rest[1]
            guard WindowName.start(of: requested) != nil, !requested.contains("/"),
                Self.windowFiles(in: folder).contains(requested)
            else { throw HTTPProblem(404, "no window file \(requested) for target \"\(name)\"") }
            file = requested
        } else {
            throw HTTPProblem(404, "not found: \(path)")
        }
        guard let data = FileManager.default.contents(atPath: folder + "/" + file) else {
            throw HTTPProblem(404, "window file \(file) is gone (retention)")
        }
        var response = DaemonResponder.body(Array(data), contentType: Self.contentType(of: file))
        if file.hasSuffix(".pb.gz") { response.headers[.contentDisposition] = "attachment; filename=\"\(file)\"" }
        return response
    }

    /// The window files of a folder, oldest first (their names start with the UTC time).
    static func windowFiles(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { WindowName.start(of: $0) != nil }.sorted()
    }

    static func contentType(of file: String) -> String {
        if file.hasSuffix(".svg") { return "image/svg+xml" }
        if file.hasSuffix(".json") { return "application/json" }
        if file.hasSuffix(".folded") { return "text/plain; charset=utf-8" }
        return "application/octet-stream"
    }

    static func formats(_ target: TargetConfig) -> String {
        target.sampling.formats.map(\.rawValue).joined(separator: ", ")
    }
}
