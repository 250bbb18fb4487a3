import Testing

@testable import FPProfCore

/// `ProfileBuilder.goroutineResolver`: asked with the sample's module, R14 and SP only when the profile is split per
/// goroutine; its answer becomes `StackKey.goroutine` and a `goroutine N` frame after the process (and thread) name.
@Suite struct GoroutineResolverTests {
    let pipeline = PipelineTests()
    let g: UInt64 = 0xc000_0001_a0

    /// The pipeline's records, with R14 = `g` in every sample.
    func records() throws -> [UInt8] {
        let format = pipeline.format
        let r14 = (format.userRegisterMask & ((1 << UInt64(X86Registers.r14)) - 1)).nonzeroBitCount
        var bytes: [UInt8] = []
        let decoder = try RecordDecoder(format: format)
        let encoder = RecordEncoder(format: format)
        for result in RecordStream(decoder: decoder, bytes: pipeline.records()[...]) {
            guard case .success(var record) = result else { continue }
            if case .sample(var s) = record, let regs = s.userRegisters {
                var words = Array(regs)
                words[r14] = g
                s.userRegisters = WordWindow(words)
                record = .sample(s)
            }
            bytes += encoder.encode(record)
        }
        return bytes
    }

    @Test func idsFollowTheProcessAndThreadFrames() throws {
        var builder = try ProfileBuilder(format: pipeline.format, options: .init(perThread: true, perGoroutine: true))
        var asked: [(ProcessID, String, UInt64, UInt64)] = []
        builder.goroutineResolver = { pid, module, g, sp, _, _ in
            asked.append((pid, module.path, g, sp))
            return 42
        }
        builder.consume(try records())
        let profile = builder.finish()
        var namer = FrameNamer(symbolizer: pipeline.symbols, modules: profile.modules)
        let lines = FoldedWriter().lines(profile, namer: &namer).map(\.0)
        #expect(lines.contains("demo;demo/500;goroutine 42;main;work;helper_[i];leaf"))
        #expect(lines.contains("demo;worker/501;goroutine 42;[fp-loop];work;helper_[i];leaf"))
        // The sample outside every mapping is not asked about and has no id.
        #expect(lines.contains { $0.hasPrefix("demo;demo/500;[bad-frame];[unknown]") })
        #expect(asked.count == 4)
        #expect(asked.allSatisfy { $0.0 == pipeline.pid && $0.1 == "/opt/demo" && $0.2 == g && $0.3 == pipeline.sp })
    }

    @Test func noIdsUnlessAsked() throws {
        var builder = try ProfileBuilder(format: pipeline.format)
        var calls = 0
        builder.goroutineResolver = { _, _, _, _, _, _ in
            calls += 1
            return 42
        }
        builder.consume(try records())
        let profile = builder.finish()
        #expect(calls == 0)
        #expect(profile.stacks.keys.allSatisfy { $0.goroutine == -1 })
    }
}
