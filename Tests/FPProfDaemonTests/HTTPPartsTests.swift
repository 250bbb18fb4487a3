import FPProfCore
import FPProfOutput
import Foundation
import Testing

@testable import FPProfDaemon

/// The pure parts of the HTTP side and the uploads: parameters, endpoint classes, the merge of on-demand
/// profiles, the spool's order and bound.
@Suite struct HTTPPartsTests {
    @Test func secondsFollowGoDefaultsAndTheBound() throws {
        #expect(try DaemonResponder.seconds(nil, bound: 300) == 30)
        #expect(try DaemonResponder.seconds(nil, bound: 10) == 10)
        #expect(try DaemonResponder.seconds("5", bound: 300) == 5)
        for bad in ["abc", "0", "-3", "1.5", ""] {
            #expect(throws: HTTPProblem.self) { try DaemonResponder.seconds(bad, bound: 300) }
        }
        do {
            _ = try DaemonResponder.seconds("301", bound: 300)
            Issue.record("301 > 300 accepted")
        } catch {
            #expect(error.status == 400)
            #expect(error.message.contains("bound of 300s"))
        }
    }

    @Test func endpointClassesAreAFixedSet() {
        #expect(RequestClass(path: "/") == .page)
        #expect(RequestClass(path: "/debug/pprof") == .pprofIndex)
        #expect(RequestClass(path: "/debug/pprof/profile") == .profile)
        #expect(RequestClass(path: "/targets/web/latest.svg") == .targets)
        #expect(RequestClass(path: "/whatever/a/client/asks") == .other)
        #expect(RequestClass(path: "/metrics/") == .other)
    }

    @Test func planNamesTheMissingTarget() {
        var config = DaemonConfig()
        config.targets = [TargetConfig(name: "web", match: .comm("web"))]
        do {
            _ = try ProfilePlan.resolve(target: "db", pid: nil, config: config)
            Issue.record("unknown target accepted")
        } catch {
            #expect(error.status == 404)
            #expect(error.message == "no target named \"db\" (configured: web)")
        }
        #expect(throws: HTTPProblem.self) { try ProfilePlan.resolve(target: "web", pid: "1", config: config) }
        #expect(throws: HTTPProblem.self) { try ProfilePlan.resolve(target: nil, pid: "x", config: config) }
        #expect(throws: HTTPProblem.self) { try ProfilePlan.resolve(target: nil, pid: "999999999", config: config) }
        config.targets.append(TargetConfig(name: "host", match: .all))
        #expect((try? ProfilePlan.resolve(target: nil, pid: nil, config: config))?.targets == [.all])
    }

    @Test func mergeSharesEqualFunctionsAndLocationsAndKeepsEveryStack() {
        func part(_ names: [String], process: String) -> NamedProfile {
            var p = NamedProfile()
            p.modules = [ModuleID(path: "[unknown]"), ModuleID(path: "/bin/\(process)")]
            for (i, name) in names.enumerated() {
                p.functions.append(NamedFunction(name: name))
                p.locations.append(NamedLocation(module: 1, offset: UInt64(i), lines: [LocationLine(function: i)]))
            }
            p.stacks = [NamedStack(process: process, locations: Array(p.locations.indices), samples: 3)]
            return p
        }
        let merged = NamedProfile.merged([
            part(["main", "work"], process: "a"), part(["main", "other"], process: "b"),
        ])
        #expect(merged.modules.map(\.path) == ["[unknown]", "/bin/a", "/bin/b"])
        #expect(merged.functions.map(\.name) == ["main", "work", "other"])
        #expect(merged.locations.count == 4)
        #expect(merged.stacks.map(\.samples) == [3, 3])
        let b = merged.stacks[1]
        #expect(b.locations.map { merged.functions[merged.locations[$0].lines[0].function].name } == ["main", "other"])
        #expect(b.locations.map { merged.locations[$0].module } == [2, 2])
    }

    @Test func spoolKeepsOrderAndDropsOldestPastItsBound() throws {
        let folder = NSTemporaryDirectory() + "fpprof-spool-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var spool = try UploadSpool(folder: folder, maxBytes: 250)
        #expect(spool.add([UInt8](repeating: 1, count: 100), from: 10, until: 12, pid: nil, target: "a_b").files == 0)
        #expect(spool.add([UInt8](repeating: 2, count: 100), from: 12, until: 14, pid: 7, target: "a_b").files == 0)
        let dropped = spool.add([UInt8](repeating: 3, count: 100), from: 14, until: 16, pid: nil, target: "a_b")
        #expect(dropped.files == 1 && dropped.bytes == 100)
        let entries = spool.entries()
        #expect(entries.map(\.from) == [12, 14])
        #expect(entries.map(\.pid) == [7, nil])
        #expect(entries.allSatisfy { $0.target == "a_b" })
        #expect(spool.read(entries[0]) == [UInt8](repeating: 2, count: 100))
        // A new spool over the same folder goes on with the sequence, after the windows already there.
        var again = try UploadSpool(folder: folder, maxBytes: 1000)
        _ = again.add([9], from: 20, until: 22, pid: nil, target: "c")
        #expect(again.entries().map(\.from) == [12, 14, 20])
    }

    @Test func htmlEscapesEverythingMarkupCouldUse() {
        #expect(XMLText.escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;")
    }
}
