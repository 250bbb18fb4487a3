internal import FPProfCore

/// Every module a symbolizer has met, each read at most once per (path, build-id): `ModuleID`'s equality is
/// exactly that pair. A module that could not be read stays in the cache as such, so its warning is given once
/// and its file is not retried for every address.
struct ModuleCache {
    let locator: ModuleFileLocator
    let answerCacheLimit: Int
    private var modules: [ModuleID: LoadedModule] = [:]
    /// The module of the previous lookup. Consecutive addresses mostly share a module, and comparing two IDs
    /// whose path strings share storage is cheaper than hashing a path.
    private var last: LoadedModule?
    /// One message per module that could not be read, in the order they were met.
    private(set) var warnings: [String] = []

    init(locator: ModuleFileLocator, answerCacheLimit: Int) {
        self.locator = locator
        self.answerCacheLimit = answerCacheLimit
    }

    mutating func module(_ id: ModuleID) -> LoadedModule {
        if let last, last.module == id { return last }
        let module = modules[id] ?? load(id)
        last = module
        return module
    }

    private mutating func load(_ id: ModuleID) -> LoadedModule {
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
        if file == nil, let error = errors.first(where: { !$0.isMissingFile }) ?? errors.first {
            let tried = errors.map(\.path).filter { $0 != error.path }
            let also = tried.isEmpty ? "" : " (also tried \(tried.joined(separator: ", ")))"
            warnings.append("\(error)\(also); frames in it are written \(id.shortName)+0xOFFSET")
        }
        let module = LoadedModule(module: id, file: file, cacheLimit: answerCacheLimit)
        modules[id] = module
        return module
    }
}
