public import FPProfCore

/// What `fpprof daemon` is told to do, as read from its TOML file: every value checked, every default filled in.
/// `config/fpprof.toml` documents each key; `ConfigParser` turns a file into this value or a `ConfigError` naming
/// the line and key.
public struct DaemonConfig: Sendable, Equatable {
    /// Where window files go: `<state_directory>/<target>/<start>.<ext>`.
    public var stateDirectory: String = "/var/lib/fpprof"
    /// How long each profile file covers.
    public var window: Duration = .seconds(60)
    public var sampling = SamplingDefaults()
    public var retention = Retention()
    /// Soft cap on symbol memory (DWARF indexes, caches) per engine, in bytes; 0 for none. 64 MiB by default,
    /// not the 512 MiB of `fpprof record`: the daemon's whole RSS is meant to stay under 100 MiB.
    public var symbolMemory: Int = 64 << 20
    public var targets: [TargetConfig] = []
    /// `[http]`: parsed and checked here, served by the HTTP side of the daemon (issue 13).
    public var http: HTTPConfig?
    /// `[[upload]]` blocks: parsed and checked here, sent by the uploader (issue 13).
    public var uploads: [UploadConfig] = []

    public init() {}
}

/// The sampling choices a target inherits from the top level unless it sets its own.
public struct SamplingDefaults: Sendable, Equatable {
    public var frequency: Int = 99
    public var stackSize: Int = 16384
    public var formats: [WindowFormat] = [.pprof]
    public var perGoroutine = false
    public var userCallchain: CallchainChoice = .auto
    public var kernel = false
    /// Frame records alone, or frame records and CFI (`fpprof record --unwind`).
    public var unwind: UnwindMode = .hybrid

    public init() {}
}

/// The formats a window can be written in; the raw value is the config's spelling.
public enum WindowFormat: String, Sendable, CaseIterable {
    case pprof
    case folded
    case svg
    case speedscope

    /// The file name extension of a window in this format.
    public var fileExtension: String {
        switch self {
        case .pprof: "pb.gz"
        case .folded: "folded"
        case .svg: "svg"
        case .speedscope: "speedscope.json"
        }
    }
}

/// When the kernel's walk of the user frame pointers is taken with each sample (see `fpprof record
/// --user-callchain`): `auto` takes it for Go executables.
public enum CallchainChoice: String, Sendable, CaseIterable {
    case auto
    case always
    case never
}

/// How long and how much of a target's windows are kept. Checked after each window, oldest files removed first.
public struct Retention: Sendable, Equatable {
    public var maxAge: Duration = .seconds(7 * 86400)
    public var maxBytes: Int = 1 << 30

    public init(maxAge: Duration = .seconds(7 * 86400), maxBytes: Int = 1 << 30) {
        self.maxAge = maxAge
        self.maxBytes = maxBytes
    }
}

/// One `[[target]]` block: a name (its folder under the state directory), how to find its processes, and its own
/// sampling choices.
public struct TargetConfig: Sendable, Equatable {
    public var name: String
    public var match: TargetMatch
    public var sampling: SamplingDefaults
    public var retention: Retention
    /// One file per process and window, instead of one per target with the process as the first frame.
    public var perProcess = false
    /// Labels given to this target's profiles when they are uploaded (issue 13).
    public var labels: [String: String] = [:]

    public init(
        name: String, match: TargetMatch, sampling: SamplingDefaults = SamplingDefaults(),
        retention: Retention = Retention(), perProcess: Bool = false, labels: [String: String] = [:]
    ) {
        self.name = name
        self.match = match
        self.sampling = sampling
        self.retention = retention
        self.perProcess = perProcess
        self.labels = labels
    }
}

/// How a target finds its processes: exactly one per target.
public enum TargetMatch: Sendable, Hashable {
    /// One process, by id.
    case pid(Int32)
    /// Processes whose executable path matches this glob (`fnmatch`, `*` does not cross `/`).
    case exe(String)
    /// Processes whose name (`/proc/PID/comm`, 15 characters at most) matches this glob.
    case comm(String)
    /// A cgroup v2 path relative to the cgroup2 mount, e.g. `system.slice/caddy.service`: per-CPU events scoped
    /// to the group, whatever joins it later.
    case cgroup(String)
    /// A systemd unit, sampled through its cgroup (found at start and at each reload).
    case unit(String)
    /// Every process on the host: per-CPU events with no pid.
    case all

    /// The config key that chose this way.
    public var key: String {
        switch self {
        case .pid: "pid"
        case .exe: "exe"
        case .comm: "comm"
        case .cgroup: "cgroup"
        case .unit: "unit"
        case .all: "all"
        }
    }
}

/// `[http]` (issue 13): where the HTTP endpoint listens and who may use it.
public struct HTTPConfig: Sendable, Equatable {
    /// `host:port`; the server only runs when this is set.
    public var listen: String
    /// Listening on a non-loopback address must be asked for explicitly.
    public var allowRemote = false
    /// A file whose first line is the bearer token every endpoint but `/healthz` requires.
    public var tokenFile: String?
    /// The longest `seconds=` an on-demand profile may ask for.
    public var maxProfileSeconds = 300

    public init(listen: String, allowRemote: Bool = false, tokenFile: String? = nil, maxProfileSeconds: Int = 300) {
        self.listen = listen
        self.allowRemote = allowRemote
        self.tokenFile = tokenFile
        self.maxProfileSeconds = maxProfileSeconds
    }
}

/// One `[[upload]]` block (issue 13): a Pyroscope-compatible `/ingest` receiver that gets every window.
public struct UploadConfig: Sendable, Equatable {
    public var url: String
    public var format: WindowFormat = .pprof
    /// The application name in `name=<app>.cpu{labels}`.
    public var applicationName = "fpprof"
    public var labels: [String: String] = [:]
    public var basicAuthUser: String?
    public var passwordFile: String?
    public var tokenFile: String?
    /// Sent as `X-Scope-OrgID` (Grafana's multi-tenant Pyroscope).
    public var tenantID: String?
    /// Bytes of windows kept on disk while the receiver is down; the oldest go first past this.
    public var spoolMaxBytes = 256 << 20

    public init(url: String) { self.url = url }
}
