import Foundation

/// Which functions of a Go binary call a given function directly, by `go tool objdump` (the reference for the
/// frames fpprof puts back above Go's frameless stack switches).
enum GoCallSites {
    static func callers(of callee: String, in binary: String) throws -> Set<String> {
        let go = try FixtureBuilder.goTool()
        let listing = try FixtureCommand.check(go, ["tool", "objdump", binary], timeout: 300).stdout
        var callers = Set<String>()
        var current = ""
        let call = "CALL \(callee)(SB)"
        for line in listing.split(separator: "\n") {
            if line.hasPrefix("TEXT ") {
                current = String(line.split(separator: " ")[1].dropLast("(SB)".count))
            } else if line.contains(call) {
                callers.insert(current)
            }
        }
        return callers
    }
}
