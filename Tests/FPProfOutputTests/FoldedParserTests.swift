import FPProfCore
import Testing

@testable import FPProfOutput

/// Folded text in: ours and stackcollapse-perf.pl's, and the garbage that must be refused.
@Suite struct FoldedParserTests {
    @Test func ourConventionsAreUnderstood() throws {
        let p = try FoldedParser.parse(
            "fploop;[fp-loop];loop_caller;loop_callee 12\nfploop;worker/4242;main;work;helper_[i];leaf 3\n"
                + "app;libfoo.so+0x1a2b 2\napp;main;do_syscall_64_[k] 1\n")
        #expect(p.stacks.count == 4)
        #expect(p.stacks[0].status == .selfLoop && p.stacks[0].samples == 12)
        #expect(p.stacks[1].thread == "worker" && p.stacks[1].tid == 4242)
        let inlined = p.locations[p.stacks[1].locations[1]]
        #expect(inlined.lines.map { p.functions[$0.function].name } == ["work", "helper"])
        #expect(inlined.lines.map(\.isInlined) == [false, true])
        #expect(p.functions.first { $0.name == "libfoo.so+0x1a2b" }?.kind == .unknown)
        #expect(p.functions.first { $0.name == "do_syscall_64" }?.kind == .kernel)
        #expect(p.totalSamples == 18)
    }

    @Test func stackcollapsePerfOutputIsRead() throws {
        let text = """
            perf-demo-1234;_start;__libc_start_main;main;[unknown];compute 17
            perf-demo-1234;_start;__libc_start_main;main;compute 3
            swapper;secondary_startup_64_[k];cpu_idle_[k] 40

            """
        let p = try FoldedParser.parse(text)
        #expect(p.stacks.map(\.process) == ["perf-demo-1234", "perf-demo-1234", "swapper"])
        #expect(p.totalSamples == 60)
        #expect(p.functions.first { $0.name == "[unknown]" }?.kind == .unknown)
    }

    @Test func foldedTextRoundTrips() throws {
        let text = "app;[fp-cycle];a;b 2\napp;main;work;helper_[i];leaf 7\napp;main;x_[k] 1\n"
        #expect(try FoldedParser.parse(text).foldedText() == text)
    }

    @Test(arguments: [
        ("main;leaf\n", 1),
        ("main;leaf 3\nnot a folded line\n", 2),
        ("main;leaf 3\nmain;leaf -4\n", 2),
        ("\u{7f}ELF\u{2}\u{1}\u{1} 3", 0),
        (" 5\n", 1),
    ])
    func garbageIsRefusedWithItsLine(text: String, line: Int) {
        #expect {
            _ = try FoldedParser.parse(Array(text.utf8) + (line == 0 ? [0] : []))
        } throws: { error in
            (error as? FoldedInputError)?.line == line
        }
    }

    /// perf's and FlameGraph's scripts pass bytes that are not UTF-8 through; so does the parser, marking them.
    @Test func invalidUTF8IsRepairedWithAWarning() throws {
        var warnings: [String] = []
        let p = try FoldedParser.parse(
            Array("ok;fine 2\n".utf8) + [0x66, 0xff, 0xfe, 0x20, 0x31, 0x0a], warnings: &warnings)
        #expect(Set(p.foldedText().split(separator: "\n")) == ["ok;fine 2", "f\u{FFFD}\u{FFFD} 1"])
        #expect(warnings == ["1 lines are not valid UTF-8; their bad bytes are shown as U+FFFD"])
    }

    /// Counts whose sum passes `Int.max` are held at it (the writers add them up), with a warning.
    @Test func countsSaturateAtIntMax() throws {
        var warnings: [String] = []
        let p = try FoldedParser.parse("a;b \(Int.max)\nc;d 1\ne;f 5\n", warnings: &warnings)
        #expect(p.totalSamples == Int.max)
        #expect(p.stacks.map(\.samples) == [Int.max])
        #expect(warnings.count == 1 && warnings[0].contains("add up past"))
    }
}
