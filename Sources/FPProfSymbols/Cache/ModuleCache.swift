internal import FPProfCore

/// Every module a symbolizer has met, each read at most once per (path, build-id): `ModuleID`'s equality is
/// exactly that pair. Modules met under several paths with one build-id (the same library seen through two
/// containers' roots) share one `LoadedModule`. A module that could not be read stays in the cache as such, so its
/// warning is given once and its file is not retried for every address.
///
/// The cache keeps the total of what its modules hold (`LoadedModule.byteCount`) under `memoryLimit` by releasing
/// the DWARF and answers of the least recently used modules first. The module in use is released last, and only its
/// answers and DWARF indexes: a single module larger than the limit is kept rather than reopened for every address.
///
/// Symbol tables are never released, but whole modules are forgotten: when a newly read module takes the total past
/// the limit, and at the start of each window, the modules used in neither this window nor the one before
/// (`startWindow()`) go, least recently used first, and are read again if met again. A module in steady use is never
/// forgotten, so a host whose busy binaries alone exceed the limit holds more than it (the cap is soft) rather than
/// reading them again every window. Modules read only for their code ranges (`module(_:use:)` with `use` false:
/// every library of every process an `all` target maps) count as never used, so they are the first to go. Without
/// this a host-wide target would hold the symbol table of every binary it ever saw (a compiler's alone holds 30 MB
/// of names).
struct ModuleCache {
    let locator: ModuleFileLocator
    let settings: SymbolizerSettings
    let memoryLimit: Int
    /// One entry per distinct file (path and build-id) met: bounded by the files the targets map, not by their
    /// processes; what an entry holds is bounded by `memoryLimit`.
    private var modules: [ModuleID: LoadedModule] = [:]
    /// What every anonymous (JIT) module gets: nothing known, no warning.
    private let anonymous: LoadedModule
    private var byBuildID: [BuildID: LoadedModule] = [:]
    /// The module of the previous lookup. Consecutive addresses mostly share a module, and comparing two IDs
    /// whose path strings share storage is cheaper than hashing a path.
    private var last: LoadedModule?
    private var lastID: ModuleID?
    private var clock: UInt64 = 0
    /// Each loaded module once, whatever number of IDs share it.
    private var loadedModules: [LoadedModule] = []
    /// Cold answers since the total was last checked: summing every module for each answer would cost more than
    /// the answer.
    private var unsettled = 0
    /// `clock` when the window before the current one began: modules used since are not forgotten.
    private var previousWindowStart: UInt64 = 0
    private var windowStart: UInt64 = 0
    /// Modules forgotten whole to stay under `memoryLimit`, since the cache was made.
    private(set) var modulesForgotten = 0
    /// One message per module that could not be read, in the order they were met.
    private(set) var warnings: [String] = []

    init(locator: ModuleFileLocator, settings: SymbolizerSettings, memoryLimit: Int) {
        self.locator = locator
        self.settings = settings
        self.memoryLimit = memoryLimit
        anonymous = LoadedModule(module: ModuleID(path: ModuleID.anonymousPath), file: nil, settings: settings)
    }

    /// The module `id` names, read on first use. `use` false: asked only for what its code ranges are, which does
    /// not count as a use (see the type's comment).
    mutating func module(_ id: ModuleID, use: Bool = true) -> LoadedModule {
        if use, let last, lastID == id { return last }
        // A JIT's code has no file to read, and is one module per process: one shared empty entry answers for all,
        // so that the cache grows with the files met, not with the processes.
        if id.isAnonymous { return anonymous }
        if let known = modules[id] {
            if use { touch(known, id) }
            return known
        }
        let module = load(id)
        if use { touch(module, id) }
        forgetUnused(keeping: module)
        return module
    }

    private mutating func touch(_ module: LoadedModule, _ id: ModuleID) {
        clock &+= 1
        module.lastUse = clock
        last = module
        lastID = id
    }

    /// Marks the start of a window: what is used from now on stays until the window after the next begins. What
    /// went out of use two windows ago is forgotten now if the total is over the limit, not only when a new module
    /// is read: a host whose programs stop changing reads none.
    mutating func startWindow() {
        clock &+= 1
        previousWindowStart = windowStart
        windowStart = clock
        forgetUnused(keeping: nil)
    }

    /// Forgets whole modules used in neither this window nor the one before, least recently used first, until the
    /// total is under the limit again; `current` (just read) stays.
    private mutating func forgetUnused(keeping current: LoadedModule?) {
        guard memoryLimit > 0 else { return }
        var total = heldBytes
        guard total > memoryLimit else { return }
        var gone = Set<ObjectIdentifier>()
        let candidates = loadedModules.filter { $0 !== current && $0.file != nil && $0.lastUse <= previousWindowStart }
        for other in candidates.sorted(by: { $0.lastUse < $1.lastUse }) {
            total -= other.byteCount
            gone.insert(ObjectIdentifier(other))
            if total <= memoryLimit { break }
        }
        guard !gone.isEmpty else { return }
        modulesForgotten += gone.count
        let kept = { (module: LoadedModule) in !gone.contains(ObjectIdentifier(module)) }
        loadedModules.removeAll { !kept($0) }
        modules = modules.filter { kept($0.value) }
        byBuildID = byBuildID.filter { kept($0.value) }
        if let last, !kept(last) {
            self.last = nil
            lastID = nil
        }
    }

    /// What the loaded modules hold together (`LoadedModule.byteCount`), the figure kept under `memoryLimit`.
    private var heldBytes: Int { loadedModules.reduce(0) { $0 + $1.byteCount } }

    /// After a module computed a new answer: collect its warning and keep the total under the limit.
    mutating func settle(_ module: LoadedModule) {
        if let warning = module.pendingWarning {
            warnings.append(warning)
            module.pendingWarning = nil
        }
        unsettled += 1
        guard memoryLimit > 0, unsettled >= 32 else { return }
        unsettled = 0
        var total = heldBytes
        guard total > memoryLimit else { return }
        for other in loadedModules.sorted(by: { $0.lastUse < $1.lastUse }) where other !== module {
            total -= other.byteCount
            other.release(keepDwarf: false)
            total += other.byteCount
            if total <= memoryLimit { return }
        }
        module.release(keepDwarf: true)
    }

    private mutating func load(_ id: ModuleID) -> LoadedModule {
        if let buildID = id.buildID, let shared = byBuildID[buildID] {
            modules[id] = shared
            return shared
        }
        var errors: [ElfReadError] = []
        var file: ElfFile? = nil
        for path in locator.candidates(for: id) {
            do {
                file = try ElfFile(path: path, expecting: id.buildID)
                break
            } catch {
                errors.append(error)
            }
        }
        if file == nil,
            let error = errors.first(where: { !$0.isMissingFile && !ModuleFileLocator.isMapFile($0.path) })
                ?? errors.first
        {
            let tried = errors.map(\.path).filter { $0 != error.path && !ModuleFileLocator.isMapFile($0) }
            let also = tried.isEmpty ? "" : " (also tried \(tried.joined(separator: ", ")))"
            warnings.append("\(error)\(also); frames in it are written \(id.shortName)+0xOFFSET")
        }
        let module = LoadedModule(module: id, file: file, settings: settings)
        modules[id] = module
        loadedModules.append(module)
        if file != nil, let buildID = id.buildID { byBuildID[buildID] = module }
        return module
    }
}
