import FPProfCore
import Glibc
import Testing

@testable import FPProfSampler

struct ProcFSTests {
    @Test(arguments: [
        ("0-1\n", [Int32(0), 1]),
        ("0\n", [0]),
        ("0-3,8,10-11\n", [0, 1, 2, 3, 8, 10, 11]),
    ])
    func cpuListsParse(text: String, cpus: [Int32]) {
        #expect(ProcFS.parseCPUList(text) == cpus)
    }

    @Test(arguments: ["0-", "a", "3-1", "1-2-3", "0,,x"])
    func malformedCPUListsAreRefused(text: String) {
        #expect(ProcFS.parseCPUList(text) == nil)
    }

    @Test func onlineCPUsAreRead() throws {
        let cpus = try ProcFS.onlineCPUs()
        #expect(!cpus.isEmpty)
        #expect(cpus.count <= Int(sysconf(Int32(_SC_NPROCESSORS_CONF))))
    }

    @Test func mapsLinesParse() throws {
        let line =
            "7f3a1c028000-7f3a1c1bd000 r-xp 00028000 fe:01 1835032                    /usr/lib/x86_64-linux-gnu/libc.so.6"
        let entry = try #require(MapsEntry(line: line[...]))
        #expect(entry.start == 0x7f3a_1c02_8000 && entry.end == 0x7f3a_1c1b_d000)
        #expect(entry.readable && !entry.writable && entry.executable && !entry.shared)
        #expect(entry.offset == 0x28000 && entry.major == 0xfe && entry.minor == 1 && entry.inode == 1_835_032)
        #expect(entry.path == "/usr/lib/x86_64-linux-gnu/libc.so.6")
        #expect(entry.protection == UInt32(PROT_READ | PROT_EXEC))
        #expect(entry.flags == UInt32(MAP_PRIVATE))
        #expect(entry.isFile)

        let vdso = try #require(
            MapsEntry(line: "7ffd6b5f3000-7ffd6b5f5000 r-xp 00000000 00:00 0                          [vdso]"))
        #expect(vdso.path == "[vdso]" && !vdso.isFile)
        let anonymous = try #require(MapsEntry(line: "7f3a1c000000-7f3a1c021000 rw-s 00000000 00:00 0 "))
        #expect(anonymous.path.isEmpty && anonymous.shared)
        let spaced = try #require(MapsEntry(line: "1000-2000 r-xp 00000000 08:01 42 /tmp/a b (deleted)"))
        #expect(spaced.path == "/tmp/a b (deleted)")
    }

    @Test(arguments: [
        "", "zzzz-2000 r-xp 00000000 08:01 42 /x", "1000-2000 r-x 00000000 08:01 42", "2000-1000 r-xp 0 08:01 1",
    ])
    func malformedMapsLinesAreSkipped(line: String) {
        #expect(MapsEntry(line: line[...]) == nil)
    }

    @Test func statStateIsFoundAfterTheLastParenthesis() {
        #expect(ProcFS.parseState(stat: "42 (a) b) (c) S 1 42 42 0") == "S")
        #expect(ProcFS.parseState(stat: "42 (sh) Z 1 42") == "Z")
        #expect(ProcFS.parseState(stat: "garbage") == nil)
    }

    @Test func tgidIsReadFromStatus() throws {
        #expect(
            ProcFS.parseTgid(status: "Name:\tx\nUmask:\t0022\nState:\tS\nTgid:\t4242\nNgid:\t0\nPid:\t4243\n") == 4242)
        #expect(try ProcFS.threadGroupID(of: getpid()) == getpid())
        #expect(try ProcFS.threads(of: getpid()).contains(getpid()))
        #expect(!ProcFS.hasExited(getpid()))
        #expect(ProcFS.hasExited(999_999))
    }
}

struct TargetLauncherTests {
    @Test func commandsAreLookedUpAlongPATH() {
        let files: Set<String> = ["/opt/bin/tool", "/usr/bin/tool", "./local", "/usr/bin/other"]
        let exists: (String) -> Bool = { files.contains($0) }
        #expect(
            TargetLauncher.resolve("tool", searchPath: "/nope:/opt/bin:/usr/bin", isExecutable: exists)
                == "/opt/bin/tool")
        #expect(
            TargetLauncher.resolve("other", searchPath: "/opt/bin:/usr/bin", isExecutable: exists) == "/usr/bin/other")
        #expect(TargetLauncher.resolve("local", searchPath: "/usr/bin::", isExecutable: exists) == "./local")
        #expect(TargetLauncher.resolve("missing", searchPath: "/opt/bin:/usr/bin", isExecutable: exists) == nil)
        #expect(TargetLauncher.resolve("/usr/bin/tool", searchPath: "", isExecutable: exists) == "/usr/bin/tool")
        #expect(TargetLauncher.resolve("bin/tool", searchPath: "/opt", isExecutable: exists) == nil)
        #expect(TargetLauncher.resolve("other", searchPath: nil, isExecutable: exists) == "/usr/bin/other")
        #expect(TargetLauncher.resolve("", searchPath: "/usr/bin", isExecutable: exists) == nil)
    }
}

/// The CPU time the summary compares samples with (`CPUTimeProbe`).
struct CPUTimeParsingTests {
    @Test func procStatTicksAfterTheLastParenthesis() throws {
        // pid (comm with ") (" inside) state ppid ... utime=14th field, stime, cutime, cstime.
        let line = "42 (a) (b) R 1 42 42 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 1 0 100 1000 10"
        let ticks = try #require(CPUTimeProbe.parseTicks(stat: line))
        #expect(ticks.user == 257 && ticks.system == 53)
        #expect(CPUTimeProbe.parseTicks(stat: "42 (x) R 1 2") == nil)
        #expect(CPUTimeProbe.parseTicks(stat: "42 (x) R 1 42 42 0 -1 0 0 0 0 0 -5 0 0 0 20") == nil)
    }

    @Test func cgroupCPUStat() throws {
        let text = "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\nnr_periods 0\n"
        #expect(CPUTimeProbe.parseCgroupStat(text) == CPUTime(user: .seconds(1), system: .milliseconds(500)))
        #expect(CPUTimeProbe.parseCgroupStat("usage_usec 1\n") == nil)
    }

    @Test func ownProcessIsMeasured() throws {
        let probe = CPUTimeProbe.start(.pid(ProcessID(getpid())))
        var sink = 0
        // 300 ms of this thread's CPU time, however loaded the machine is.
        func threadCPU() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        let start = threadCPU()
        while threadCPU() - start < 0.3 { sink &+= 1 }
        let used = try #require(probe.finish())
        #expect(used.total >= .milliseconds(250) && used.total <= .seconds(5), "\(used) \(sink)")
    }
}
