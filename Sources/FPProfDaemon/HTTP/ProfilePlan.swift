import FPProfCore
import FPProfSampler
import Foundation

/// What one on-demand profile samples: the sampler targets (one engine each) and the sampling choices, resolved
/// from the request's `target=` or `pid=` against the running configuration.
struct ProfilePlan: Sendable, Equatable {
    var targets: [SamplerTarget]
    var sampling: SamplingDefaults
    var symbolMemory: Int

    /// `target=NAME` samples that configured target's processes as they are now (a `comm`/`exe` target: every
    /// matching process not forked by another matching one, whose events follow their children); `pid=P` one
    /// process; neither, every configured target (all of the host when one of them is an `all` target).
    static func resolve(target: String?, pid: String?, config: DaemonConfig) throws(HTTPProblem) -> ProfilePlan {
        var plan = ProfilePlan(targets: [], sampling: config.sampling, symbolMemory: config.symbolMemory)
        switch (target, pid) {
        case (.some, .some):
            throw HTTPProblem(400, "give target= or pid=, not both")
        case (nil, let pid?):
            guard let value = Int32(pid), value > 0 else {
                throw HTTPProblem(400, "pid: expected a process id, got \"\(pid)\"")
            }
            guard FileManager.default.fileExists(atPath: "/proc/\(value)") else {
                throw HTTPProblem(404, "no such process: \(value)")
            }
            plan.targets = [.pid(ProcessID(value))]
        case (let name?, nil):
            guard let configured = config.targets.first(where: { $0.name == name }) else {
                let known = config.targets.map(\.name).joined(separator: ", ")
                throw HTTPProblem(404, "no target named \"\(name)\" (configured: \(known.isEmpty ? "none" : known))")
            }
            plan.sampling = configured.sampling
            plan.targets = try samplerTargets(of: configured)
            if plan.targets.isEmpty {
                throw HTTPProblem(404, "target \"\(name)\" matches no running process")
            }
        case (nil, nil):
            var all: [SamplerTarget] = []
            for configured in config.targets {
                for t in (try? samplerTargets(of: configured)) ?? [] where !all.contains(t) { all.append(t) }
            }
            if all.contains(.all) { all = [.all] }
            guard !all.isEmpty else { throw HTTPProblem(404, "no configured target has a running process") }
            plan.targets = all
        }
        return plan
    }

    static func samplerTargets(of target: TargetConfig) throws(HTTPProblem) -> [SamplerTarget] {
        switch target.match {
        case .all:
            return [.all]
        case .pid(let pid):
            guard FileManager.default.fileExists(atPath: "/proc/\(pid)") else { return [] }
            return [.pid(ProcessID(pid))]
        case .cgroup(let path):
            guard let folder = CgroupV2.folder(of: path) else {
                throw HTTPProblem(503, "cgroup \"\(path)\": no cgroup2 file system is mounted")
            }
            return [.cgroup(folder)]
        case .unit(let unit):
            guard let group = UnitCgroup.resolve(unit), let folder = CgroupV2.folder(of: group) else {
                throw HTTPProblem(404, "unit \"\(unit)\" has no cgroup (is it running?)")
            }
            return [.cgroup(folder)]
        case .exe, .comm:
            let own = getpid()
            let processes = ProcessScanner.scan()
            let parents = Dictionary(processes.map { ($0.pid, $0.parent) }, uniquingKeysWith: { a, _ in a })
            let matching = Set(
                processes.filter { $0.pid != own && ProcessMatcher.matches(target.match, $0) }.map(\.pid))
            return matching.sorted()
                .filter { !TargetRunner.hasAncestor($0, in: matching, parents: parents) }
                .map { .pid(ProcessID($0)) }
        }
    }
}
