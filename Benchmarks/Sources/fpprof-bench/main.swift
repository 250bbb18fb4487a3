// fpprof-bench: throughput of fpprof's offline pipeline over a recorded raw capture.
//
//   fpprof-bench pipeline CAPTURE [--repeat N] [--cpu K] [--per-thread] [--unwind fp|hybrid|fp,hybrid] [--folded PATH]
//
// Loads CAPTURE (written by `fpprof record --raw CAPTURE ...`) into memory once, runs one untimed pass to warm the
// symbolizer (ELF files read, symbol tables built, answer caches filled), then N timed passes. Given two unwind
// modes, it warms both and then alternates them pass by pass, N passes each: the pair is compared on the same
// loaded capture, in one process, under the same drift of the machine. Each timed pass is
// what `fpprof report` would do with the capture: parse the capture container, decode every kernel record, keep
// the process table, unwind every sample's frame pointers over its stack copy, normalize and aggregate stacks
// (ProfileBuilder), then name the frames and render folded text (FrameNamer + FoldedWriter). Every pass gets a
// fresh ProfileBuilder and FrameNamer; the ElfSymbolizer is shared, so its caches are warm. Single-threaded; pin
// it with `--cpu K` (sched_setaffinity) or `taskset -c K`.

import FPProfCore
import FPProfEngine
import FPProfOutput
import FPProfSampler
import FPProfSymbols
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

struct Usage: Error, CustomStringConvertible {
    var description: String
}

let usage = """
    usage: fpprof-bench pipeline CAPTURE [--repeat N] [--cpu K] [--per-thread] [--unwind MODES] [--folded PATH]
           fpprof-bench soak SECONDS CUT_SECONDS -- COMMAND...

      CAPTURE        a raw capture written by `fpprof record --raw CAPTURE -- CMD`
      --repeat N     timed passes after the warm-up pass (default 7)
      --cpu K        pin this process to CPU K first (sched_setaffinity)
      --per-thread   split stacks per thread, as `fpprof record --per-thread`
      --unwind MODES fp (frame records alone, the default here), hybrid (frame records and CFI), or both
                     (fp,hybrid): passes then alternate between them, N of each
      --folded PATH  write the folded output of the warm-up pass to PATH (to check it)

    Prints one line per pass and then a summary; the last line (one per mode) is machine-readable:
      RESULT mode=U samples=S passes=N median=M min=A max=B build_median=D frames_per_sample=F rates=R1,R2,...
             build_rates=B1,B2,... cpu_rates=C1,C2,...
      (rates in samples per second of wall time, cpu_rates per second of this thread's CPU time;
      build_* leave out symbolize+fold)
    """

struct PipelineArguments {
    var capture = ""
    var repeats = 7
    var cpu: Int?
    var perThread = false
    var unwind = [UnwindMode.fp]
    var foldedPath: String?

    init(_ args: ArraySlice<String>) throws {
        var it = args.makeIterator()
        var positional: [String] = []
        func value(_ flag: String) throws -> String {
            guard let v = it.next() else { throw Usage(description: "\(flag) needs a value") }
            return v
        }
        while let a = it.next() {
            switch a {
            case "--repeat", "-n":
                guard let n = Int(try value(a)), n > 0 else {
                    throw Usage(description: "--repeat takes a positive integer")
                }
                repeats = n
            case "--cpu":
                guard let k = Int(try value(a)), (0..<64).contains(k) else {
                    throw Usage(description: "--cpu takes 0...63")
                }
                cpu = k
            case "--per-thread": perThread = true
            case "--unwind":
                let modes = try value(a).split(separator: ",").map { UnwindMode(rawValue: String($0)) }
                guard !modes.isEmpty, modes.count <= 2, !modes.contains(nil), Set(modes).count == modes.count else {
                    throw Usage(description: "--unwind takes fp, hybrid or fp,hybrid")
                }
                unwind = modes.compactMap { $0 }
            case "--folded": foldedPath = try value(a)
            case "-h", "--help": throw Usage(description: usage)
            default:
                if a.hasPrefix("-") { throw Usage(description: "unknown option \(a)\n\(usage)") }
                positional.append(a)
            }
        }
        guard positional.count == 1 else { throw Usage(description: usage) }
        capture = positional[0]
    }
}

/// The outcome of one pass: what was processed and where the time went.
struct Pass {
    var samples: Int
    var chunks: Int
    var stacks: Int
    var lines: Int
    var outputBytes: Int
    /// Raw frames walked per sample (before symbolization; the leaf and every caller found).
    var framesPerSample: Double
    var build: Duration  // capture parse + record decode + process table + unwind + normalize + aggregate
    var fold: Duration  // symbolize (warm caches) + folded text
    var total: Duration { build + fold }
    /// This thread's CPU time for the whole pass: unlike wall time, not inflated when other processes share the
    /// core (a check on the wall-time figure on a busy machine).
    var cpu: Double
    var folded: String
}

func seconds(_ d: Duration) -> Double {
    let (s, atto) = d.components
    return Double(s) + Double(atto) * 1e-18
}

func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func runPass(bytes: [UInt8], symbolizer: ElfSymbolizer, perThread: Bool, unwind: UnwindMode) throws -> Pass {
    let clock = ContinuousClock()
    let c0 = threadCPUSeconds()
    let t0 = clock.now
    let (header, chunks) = try Capture.decode(bytes)
    // The engine's own wiring, as `fpprof record` and `fpprof report` use it: code ranges (roots and stack
    // switches), entry-frame rules (CFI, Go's tables), the stack-switch repair and the sampler's prefetch.
    var builder = try PipelineSetup.builder(
        format: header.format, perThread: perThread, kernel: false, symbolizer: symbolizer, unwind: unwind)
    for chunk in chunks { builder.consume(chunk) }
    let profile = builder.finish()
    let t1 = clock.now
    var namer = FrameNamer(symbolizer: symbolizer, modules: profile.modules)
    let folded = FoldedWriter().render(profile, namer: &namer)
    let t2 = clock.now
    let c2 = threadCPUSeconds()
    var lines = 0
    for b in folded.utf8 where b == UInt8(ascii: "\n") { lines += 1 }
    var frames = 0
    for (key, weight) in profile.stacks { frames += key.frames.count * weight.samples }
    return Pass(
        samples: profile.stats.samples, chunks: chunks.count, stacks: profile.stacks.count, lines: lines,
        outputBytes: folded.utf8.count, framesPerSample: Double(frames) / Double(max(1, profile.stats.samples)),
        build: t1 - t0, fold: t2 - t1, cpu: c2 - c0, folded: folded)
}

/// sched_setaffinity(2) is declared only under _GNU_SOURCE, which the Glibc module does not set: look it up.
func pin(cpu: Int) throws {
    typealias SetAffinity = @convention(c) (pid_t, Int, UnsafeRawPointer) -> Int32
    guard let symbol = dlsym(nil, "sched_setaffinity") else {
        throw Usage(description: "sched_setaffinity is not available")
    }
    let setAffinity = unsafeBitCast(symbol, to: SetAffinity.self)
    var mask = [UInt64](repeating: 0, count: 16)  // 1024 CPUs, glibc's cpu_set_t
    mask[0] = UInt64(1) << UInt64(cpu)
    let rc = mask.withUnsafeBytes { setAffinity(0, $0.count, $0.baseAddress!) }
    guard rc == 0 else {
        throw Usage(description: "sched_setaffinity(cpu \(cpu)) failed: errno \(errno)")
    }
}

func format(_ rate: Double) -> String {
    let n = Int(rate.rounded())
    var s = String(n)
    var i = s.count - 3
    while i > 0 {
        s.insert(",", at: s.index(s.startIndex, offsetBy: i))
        i -= 3
    }
    return s
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// One mode's timed passes.
struct Series {
    var rates: [Double] = []
    var buildRates: [Double] = []
    var foldTimes: [Double] = []
    var cpuRates: [Double] = []
    var outputBytes = 0
}

func pipeline(_ a: PipelineArguments) throws {
    if let cpu = a.cpu { try pin(cpu: cpu) }
    // One copy of the capture in memory: the file's `Data` is dropped once copied (a 1.5 GB capture otherwise
    // held twice).
    let bytes: [UInt8] = try {
        guard let data = FileManager.default.contents(atPath: a.capture) else {
            throw Usage(description: "cannot read \(a.capture)")
        }
        return [UInt8](data)
    }()
    let symbolizer = ElfSymbolizer()

    // Warm-up, per mode: reads the ELF files and fills the symbolizer's caches; also faults in the capture's pages.
    var warm: [Pass] = []
    for mode in a.unwind {
        let pass = try runPass(bytes: bytes, symbolizer: symbolizer, perThread: a.perThread, unwind: mode)
        if let path = a.foldedPath, warm.isEmpty {
            try Data(pass.folded.utf8).write(to: URL(fileURLWithPath: path))
        }
        print(
            "capture \(a.capture), --unwind \(mode): \(bytes.count) bytes, \(pass.samples) samples, "
                + "\(pass.stacks) distinct raw stacks, \(String(format: "%.1f", pass.framesPerSample)) frames per "
                + "sample, \(pass.lines) folded lines")
        print(
            "warm-up pass (cold symbol caches): \(String(format: "%.4f", seconds(pass.total))) s = "
                + "\(format(Double(pass.samples) / seconds(pass.total))) samples/s")
        guard pass.samples > 0 else { throw Usage(description: "the capture holds no samples") }
        warm.append(pass)
    }
    for w in symbolizer.warnings { print("symbolizer warning: \(w)") }

    var series = [Series](repeating: Series(), count: a.unwind.count)
    for i in 1...a.repeats {
        // Alternated pass by pass: both modes see the same drift of the machine.
        for (m, mode) in a.unwind.enumerated() {
            let p = try runPass(bytes: bytes, symbolizer: symbolizer, perThread: a.perThread, unwind: mode)
            precondition(p.samples == warm[m].samples && p.folded == warm[m].folded, "passes must agree")
            let rate = Double(p.samples) / seconds(p.total)
            series[m].rates.append(rate)
            series[m].buildRates.append(Double(p.samples) / seconds(p.build))
            series[m].foldTimes.append(seconds(p.fold))
            series[m].cpuRates.append(Double(p.samples) / p.cpu)
            series[m].outputBytes = p.outputBytes
            print(
                "pass \(i) (\(mode)): \(String(format: "%.4f", seconds(p.total))) s = \(format(rate)) samples/s "
                    + "(decode+unwind+aggregate \(String(format: "%.4f", seconds(p.build))) s, "
                    + "symbolize+fold \(String(format: "%.4f", seconds(p.fold))) s)")
        }
    }
    for (m, mode) in a.unwind.enumerated() {
        let s = series[m]
        let med = median(s.rates)
        print(
            "--unwind \(mode): median \(format(med)) samples/s, range \(format(s.rates.min()!))–"
                + "\(format(s.rates.max()!)) over \(a.repeats) passes of \(warm[m].samples) samples; "
                + "decode+unwind+aggregate alone: median \(format(median(s.buildRates))) samples/s; symbolize+fold "
                + "median \(String(format: "%.4f", median(s.foldTimes))) s (output \(s.outputBytes) bytes); by "
                + "thread CPU time: median \(format(median(s.cpuRates))) samples/s")
    }
    for (m, mode) in a.unwind.enumerated() {
        let s = series[m]
        print(
            "RESULT mode=\(mode) samples=\(warm[m].samples) passes=\(a.repeats) median=\(Int(median(s.rates).rounded())) "
                + "min=\(Int(s.rates.min()!.rounded())) max=\(Int(s.rates.max()!.rounded())) "
                + "build_median=\(Int(median(s.buildRates).rounded())) "
                + "frames_per_sample=\(String(format: "%.1f", warm[m].framesPerSample)) "
                + "rates=\(s.rates.map { String(Int($0.rounded())) }.joined(separator: ",")) "
                + "build_rates=\(s.buildRates.map { String(Int($0.rounded())) }.joined(separator: ",")) "
                + "cpu_rates=\(s.cpuRates.map { String(Int($0.rounded())) }.joined(separator: ","))")
    }
}

let args = CommandLine.arguments.dropFirst()
do {
    switch args.first {
    case "pipeline": try pipeline(PipelineArguments(args.dropFirst()))
    case "soak": try await soak(SoakArguments(args.dropFirst()))
    default:
        throw Usage(description: usage)
    }
} catch let e as Usage {
    FileHandle.standardError.write(Data("\(e.description)\n".utf8))
    exit(64)
} catch {
    FileHandle.standardError.write(Data("fpprof-bench: \(error)\n".utf8))
    exit(1)
}
