import FPProfCore
import Foundation
import SwiftProtobuf
import Testing

@testable import FPProfOutput

/// The pprof writer, read back both with our generated decoder (exact structure) and with `go tool pprof` (what
/// users run).
@Suite struct PprofTests {
    func decoded(perThread: Bool = true) throws -> Perftools_Profiles_Profile {
        let bytes = try PprofWriter.encode(Synthetic.named(perThread: perThread))
        #expect(bytes.prefix(2) == [0x1f, 0x8b])
        return try Perftools_Profiles_Profile(serializedBytes: try Tool.gunzip(bytes))
    }

    func string(_ p: Perftools_Profiles_Profile, _ i: Int64) -> String { p.stringTable[Int(i)] }

    @Test func headerSampleTypesAndComments() throws {
        let p = try decoded()
        #expect(p.stringTable.first == "")
        #expect(
            p.sampleType.map { [string(p, $0.type), string(p, $0.unit)] } == [
                ["samples", "count"], ["cpu", "nanoseconds"],
            ])
        #expect(string(p, p.periodType.type) == "cpu" && string(p, p.periodType.unit) == "nanoseconds")
        #expect(p.period == 1_000_000_000 / 99)
        #expect(p.timeNanos == 1_700_000_000_000_000_000)
        #expect(p.durationNanos == 1_060_000_000)
        let comments = p.comment.map { string(p, $0) }
        #expect(comments.contains("event: cpu-clock at 99 Hz"))
        #expect(p.sample.reduce(0) { $0 + $1.value[0] } == Int64(Synthetic.total))
        #expect(p.sample.reduce(0) { $0 + $1.value[1] } == Int64(Synthetic.total) * 10_101_010)
    }

    @Test func mappingsCarryPathsAndBuildIDsMainBinaryFirst() throws {
        let p = try decoded()
        #expect(p.mapping.count == 2)
        #expect(string(p, p.mapping[0].filename) == Synthetic.appPath)
        #expect(string(p, p.mapping[0].buildID) == "abcdef0123456789")
        #expect(string(p, p.mapping[1].filename) == Synthetic.libcPath)
        #expect(string(p, p.mapping[1].buildID) == "11223344")
        for m in p.mapping {
            #expect(m.memoryStart < m.memoryLimit)
            #expect(m.hasFunctions_p)
        }
        #expect(p.mapping[0].hasInlineFrames_p && p.mapping[0].hasLineNumbers_p && p.mapping[0].hasFilenames_p)
        // Every location lies inside its mapping, and address - start is the file offset.
        for loc in p.location where loc.mappingID != 0 {
            let m = p.mapping.first { $0.id == loc.mappingID }!
            #expect(loc.address >= m.memoryStart && loc.address < m.memoryLimit)
        }
        let leaf = p.location.first { loc in
            loc.line.contains { string(p, p.function[Int($0.functionID) - 1].name) == "leaf" }
        }!
        let mapping = p.mapping.first { $0.id == leaf.mappingID }!
        #expect(leaf.address - mapping.memoryStart + mapping.fileOffset == 0x1250)
    }

    @Test func functionsAndLocationsAreDeduplicatedAndInlineLinesInnermostFirst() throws {
        let p = try decoded()
        let names = p.function.map { string(p, $0.name) }
        #expect(names.count == Set(names).count, "\(names)")
        #expect(Set(names).isSuperset(of: ["main", "work", "helper", "leaf", "__libc_start_call_main", "app+0x5000"]))
        let addresses = p.location.filter { $0.mappingID != 0 }.map { [$0.mappingID, $0.address] }
        #expect(addresses.count == Set(addresses).count)
        // 0x1250 and 0x2050 appear in several stacks but once as locations.
        #expect(p.location.filter { $0.mappingID != 0 }.count == 7)
        let inlined = p.location.first { $0.line.count == 2 }!
        #expect(inlined.line.map { string(p, p.function[Int($0.functionID) - 1].name) } == ["helper", "work"])
        #expect(inlined.line.map(\.line) == [31, 22])
        let helper = p.function.first { string(p, $0.name) == "helper" }!
        #expect(string(p, helper.filename) == "/src/helper.h")
    }

    @Test func labelsAndTheMarkerOfAFlaggedSample() throws {
        let p = try decoded()
        func labels(_ s: Perftools_Profiles_Sample) -> [String: String] {
            Dictionary(
                uniqueKeysWithValues: s.label.map {
                    (string(p, $0.key), $0.str != 0 ? string(p, $0.str) : String($0.num))
                })
        }
        let flagged = p.sample.filter { labels($0)["unwind"] != nil }
        #expect(flagged.count == 1)
        #expect(
            labels(flagged[0]) == [
                "pid": "100", "tid": "101", "thread": "worker", "process": "app", "unwind": "self-loop",
            ])
        // Leaf first; the marker is the outermost location and has no mapping.
        let root = p.location[Int(flagged[0].locationID.last!) - 1]
        #expect(root.mappingID == 0)
        #expect(string(p, p.function[Int(root.line[0].functionID) - 1].name) == "[fp-loop]")
        let leaf = p.location[Int(flagged[0].locationID.first!) - 1]
        #expect(string(p, p.function[Int(leaf.line[0].functionID) - 1].name) == "leaf")
        for s in p.sample where labels(s)["unwind"] == nil {
            #expect(labels(s)["thread"] != nil && labels(s)["tid"] != nil && labels(s)["pid"] == "100")
        }
    }

    @Test func foldedInputHasCountsOnly() throws {
        let named = try FoldedParser.parse("app;main;work;helper_[i];leaf 7\napp;[fp-loop];leaf 3\n")
        let p = try Perftools_Profiles_Profile(serializedBytes: try Tool.gunzip(try PprofWriter.encode(named)))
        #expect(p.sampleType.count == 1)
        #expect(p.sample.map { $0.value }.sorted { $0[0] < $1[0] } == [[3], [7]])
        let inlined = p.location.first { $0.line.count == 2 }!
        #expect(inlined.line.map { string(p, p.function[Int($0.functionID) - 1].name) } == ["helper", "work"])
    }

    /// `go tool pprof` itself: -raw shows the build-ids and the inline chain, -traces marks inlined frames.
    @Test(.enabled(if: Tool.path("go") != nil, "needs go (golang-go) for go tool pprof"))
    func goToolPprofReadsItAndShowsInlining() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fpprof-\(UUID().uuidString).pb.gz")
        defer { try? FileManager.default.removeItem(at: path) }
        try Data(try PprofWriter.encode(Synthetic.named(perThread: true))).write(to: path)
        Artifacts.keep(path.path, as: "synthetic.pb.gz")
        let go = Tool.path("go")!
        let raw = String(decoding: try Tool.run(go, ["tool", "pprof", "-raw", path.path]), as: UTF8.self)
        #expect(raw.contains("abcdef0123456789"))
        #expect(raw.contains("11223344"))
        #expect(raw.contains("[fp-loop]"))
        #expect(raw.contains("unwind:[self-loop]"))
        let traces = String(decoding: try Tool.run(go, ["tool", "pprof", "-traces", path.path]), as: UTF8.self)
        #expect(
            traces.contains("helper (inline)") || traces.contains("helper\n") && traces.contains("(inline)"),
            "\(traces)")
        let top = String(
            decoding: try Tool.run(go, ["tool", "pprof", "-top", "-sample_index=samples", path.path]), as: UTF8.self)
        #expect(top.contains("leaf"), "\(top)")
    }
}
