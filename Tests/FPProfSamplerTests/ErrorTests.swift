import FPProfCore
import FPProfSampler
import Foundation
import Testing

struct ErrorTests {
    @Test func missingPidIsNoSuchProcess() throws {
        let error = try #require(throws: SamplerError.self) {
            try SamplingSession(target: .pid(ProcessID(999_999)))
        }
        #expect(error.code == .noSuchProcess)
        #expect(error.description.contains("no such process: 999999"))
    }

    @Test func unknownCommandIsCommandNotFound() throws {
        let error = try #require(throws: SamplerError.self) {
            try SamplingSession(target: .launch(["nosuchcmd-xyz"]))
        }
        #expect(error.code == .commandNotFound)
        #expect(error.description == "command not found: nosuchcmd-xyz")
        #expect(throws: SamplerError.self) { try SamplingSession(target: .launch([])) }
    }

    @Test func fileThatIsNotExecutableIsRefusedBeforeForking() throws {
        let path = try temporaryFile("echo hi\n", executable: false)
        let error = try #require(throws: SamplerError.self) { try SamplingSession(target: .launch([path])) }
        #expect(error.code == .permissionDenied)
    }

    @Test(.enabled(if: isRoot, "opens perf events"))
    func execFailureIsReportedByStart() throws {
        // Executable bit, but neither ELF nor a #! script: execv fails with ENOEXEC in the child.
        let path = try temporaryExecutableWrittenElsewhere("\\177garbage")
        let session = try SamplingSession(target: .launch([path]))
        let error = try #require(throws: SamplerError.self) { try session.start() }
        #expect(error.code == .system)
        #expect(error.underlyingErrno == ENOEXEC)
        #expect(error.description.contains("exec format error"), "\(error)")
    }

    @Test(arguments: [
        (SamplerConfiguration(stackSize: 100), "stack size"),
        (SamplerConfiguration(stackSize: 65536), "stack size"),
        (SamplerConfiguration(frequency: 0), "frequency"),
        (SamplerConfiguration(frequency: 10_000_000), "frequency"),
        (SamplerConfiguration(ringPages: 3), "ring pages"),
        (SamplerConfiguration(stackSize: 65528, ringPages: 8), "ring"),
        (SamplerConfiguration(streamBufferLimit: 0), "stream buffer"),
    ])
    func invalidConfigurationIsRefused(configuration: SamplerConfiguration, mentions: String) throws {
        let error = try #require(throws: SamplerError.self) {
            try SamplingSession(configuration: configuration, target: .pid(ProcessID(getpid())))
        }
        #expect(error.code == .invalidConfiguration)
        #expect(error.description.contains(mentions), "\(error)")
    }

    @Test(.enabled(if: isRoot, "opens perf events"))
    func cyclesEitherOpensOrSaysWhatToUseInstead() throws {
        do {
            let session = try SamplingSession(
                configuration: SamplerConfiguration(event: .cycles), target: .launch(["true"]))
            #expect(session.eventKind == .cycles)
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(error.description.contains("cpu-clock"), "\(error)")
        }
        let automatic = try SamplingSession(target: .launch(["true"]))
        let clock = try SamplingSession(
            configuration: SamplerConfiguration(event: .cpuClock), target: .launch(["true"]))
        #expect(clock.eventKind == .cpuClock)
        #expect([EventKind.cycles, .cpuClock].contains(automatic.eventKind))
    }

    @Test func permissionMessageSaysWhatToDo() {
        // The exact wording other tools and users grep for.
        let error = SamplerError(
            code: .permissionDenied, underlyingErrno: EACCES, context: "perf_event_open(pid: 4242, cpu: 3)",
            description: "perf_event_open(pid: 4242, cpu: 3): permission denied; run as root, grant CAP_PERFMON, "
                + "or lower /proc/sys/kernel/perf_event_paranoid")
        #expect(error.description.hasPrefix(error.context))
    }
}

/// A file written by another process, so that no descriptor of ours ever had it open for writing: a concurrent
/// fork in the test runner could otherwise still hold that descriptor at exec time, and exec fails with ETXTBSY.
func temporaryExecutableWrittenElsewhere(_ printfFormat: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("fpprof-sampler-\(UUID())").path
    let writer = try startProcess("/bin/sh", ["-c", "printf '\(printfFormat)' > '\(path)' && chmod 755 '\(path)'"])
    writer.waitUntilExit()
    guard writer.terminationStatus == 0 else { throw BuildFailed() }
    return path
}

func temporaryFile(_ contents: String, executable: Bool) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("fpprof-sampler-\(UUID())").path
    try contents.write(toFile: path, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: executable ? 0o755 : 0o644], ofItemAtPath: path)
    return path
}
