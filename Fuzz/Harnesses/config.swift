// libFuzzer harness: the daemon's configuration file (TOML through TOMLKit, then fpprof's key checks: units,
// durations, sizes, targets, upload and http tables), as `fpprof daemon --config` and SIGHUP reloads read it. Any
// input must give a config or a ConfigError naming the line, never a crash. Built and run by
// scripts/fuzz.sh config SECONDS.
import FPProfDaemon

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        _ = try ConfigParser.parse(text, file: "fuzz.toml")
    } catch {
        _ = error.description
    }
    return 0
}
