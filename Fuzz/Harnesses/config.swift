// libFuzzer harness: the daemon's configuration file (TOML through TOMLKit, then fpprof's key checks: units,
// durations, sizes, targets, upload and http tables), as `fpprof daemon --config` and SIGHUP reloads read it: the
// TOML parsed first in a child `fpprof daemon --vet-toml` (FPPROF_VET_EXE names the binary; scripts/fuzz.sh builds
// it), so that toml++'s assertions end the child, as in the daemon. Any input must give a config or a ConfigError
// naming the line, never a crash. Built and run by scripts/fuzz.sh config SECONDS.
import FPProfDaemon
import Foundation

let vetter = ProcessInfo.processInfo.environment["FPPROF_VET_EXE"].map { SyntaxVetter(executable: $0) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        _ = try ConfigParser.parse(text, file: "fuzz.toml", vetter: vetter)
    } catch {
        _ = error.description
    }
    return 0
}
