// libFuzzer harness: the daemon's configuration file (TOML through TOMLKit, then fpprof's key checks: units, durations,
// sizes, targets, upload and http tables), as `fpprof daemon --config` and SIGHUP reloads read it: the TOML parsed
// first in a child (`SyntaxVetter`), so that toml++'s assertions end the child, as in the daemon. The daemon's child is
// `fpprof daemon --vet-toml`; here it is a fork of the harness (an exec of fpprof per input ran 14-33 inputs a second,
// a fork 70), which parses and exits, with SIGABRT back at its default so that libFuzzer's handler does not report the
// child's abort as a crash. Any input must give a config or a ConfigError naming the line, never a crash. Built and run
// by scripts/fuzz.sh config SECONDS.
import FPProfDaemon
import Glibc
import TOMLKit

let vetter = SyntaxVetter { text in
    let pid = fork()
    if pid == 0 {
        signal(SIGABRT, SIG_DFL)
        _ = try? TOMLTable(string: text)
        _exit(0)
    }
    guard pid > 0 else { return .notRun("fork failed") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    let ended = status & 0x7f
    return ended == 0
        ? ((status >> 8) & 0xff == 0 ? .returned : .notRun("exit \((status >> 8) & 0xff)")) : .aborted(ended)
}

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
