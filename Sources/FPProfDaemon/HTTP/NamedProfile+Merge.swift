import FPProfOutput

extension NamedProfile {
    /// One profile of several recordings' (one per engine of an on-demand profile): modules, functions and
    /// locations equal in value are shared, every stack kept with its indices renumbered. The first part's
    /// metadata is kept; callers set their own.
    static func merged(_ parts: [NamedProfile]) -> NamedProfile {
        guard var result = parts.first else { return NamedProfile() }
        guard parts.count > 1 else { return result }
        var moduleIndex = Dictionary(result.modules.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var functionIndex = Dictionary(
            result.functions.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var locationIndex = Dictionary(
            result.locations.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        for part in parts.dropFirst() {
            let modules = part.modules.map { module -> Int in
                if let i = moduleIndex[module] { return i }
                result.modules.append(module)
                moduleIndex[module] = result.modules.count - 1
                return result.modules.count - 1
            }
            let functions = part.functions.map { function -> Int in
                if let i = functionIndex[function] { return i }
                result.functions.append(function)
                functionIndex[function] = result.functions.count - 1
                return result.functions.count - 1
            }
            let locations = part.locations.map { location -> Int in
                var renumbered = location
                renumbered.module = location.module.map { modules[$0] }
                renumbered.lines = location.lines.map { line in
                    var l = line
                    l.function = functions[line.function]
                    return l
                }
                if let i = locationIndex[renumbered] { return i }
                result.locations.append(renumbered)
                locationIndex[renumbered] = result.locations.count - 1
                return result.locations.count - 1
            }
            for stack in part.stacks {
                var s = stack
                s.locations = stack.locations.map { locations[$0] }
                result.stacks.append(s)
            }
            result.metadata.lostRecords += part.metadata.lostRecords
        }
        return result
    }
}
