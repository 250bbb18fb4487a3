// Swift names in a real profile: fpprof profiling its own `report` command, a Swift program full of generic
// specializations, closures and private functions, whose full demangled names reach thousands of characters.

import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite(
    "Swift names", .serialized,
    .enabled(if: FPProf.isRoot, "profiling a launched command needs root or CAP_PERFMON"))
struct SwiftNameTests {
    /// In the default mode (`simplified`) no frame of the profile is longer than 200 characters, and the names
    /// read as Swift's own simplified demangling: no module prefix on fpprof's types, no private discriminator.
    @Test func reportProfileNamesAreShort() throws {
        let capture = FPProf.temporaryPath("fpc")
        let rendered = FPProf.temporaryPath("folded")
        defer {
            unlink(capture)
            unlink(rendered)
        }
        _ = try FPProf.record(
            ["-F", "999", "--raw", capture, "--", try FixtureBuilder.path(for: .shares), "2"])
        // The report renders the capture several times over, to give the profile enough samples.
        let script = "for i in 1 2 3 4 5 6; do \(FPProf.executable) report \(capture) -o \(rendered) || exit 1; done"
        let (folded, _) = try FPProf.record(["-F", "999", "--", "/bin/sh", "-c", script], timeout: 300)
        let names = Set(folded.lines.flatMap(\.frames))
        try #require(folded.total > 100, "only \(folded.total) samples")
        let swiftNames = names.filter { $0.contains("ProfileBuilder") || $0.contains("ReportCommand") }
        #expect(!swiftNames.isEmpty, "no fpprof frames among \(names.count) names")
        let long = names.filter { $0.count > 200 }
        #expect(long.isEmpty, "\(long.sorted())")
        // No private discriminator (`(in _` and 32 hex digits) and no module prefix on fpprof's own types.
        let unsimplified = names.filter { $0.contains("(in _") || $0.contains("FPProfCore.") }
        #expect(unsimplified.isEmpty, "\(unsimplified.sorted())")
    }
}
