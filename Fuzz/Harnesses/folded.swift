// libFuzzer harness: folded text (fpprof's or stackcollapse-perf.pl's) parsed and rendered in every format, as
// `fpprof report x.folded --format F` does.
import FPProfOutput

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFolded(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var warnings: [String] = []
    guard let profile = try? FoldedParser.parse(bytes, warnings: &warnings) else { return 0 }
    for format in [OutputFormat.folded, .pprof, .svg, .speedscope] {
        _ = try? ProfileRenderer.render(profile, options: RenderOptions(format: format))
    }
    return 0
}
