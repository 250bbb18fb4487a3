internal import CPerfEvent
public import FPProfCore

/// Reads a few words of a live process's memory with `process_vm_readv(2)` (needs ptrace access to the target:
/// root, or the same user under Yama scope 0, or `CAP_SYS_PTRACE`). For values the sample itself does not carry,
/// such as fields of a Go `runtime.g` reached through R14.
public enum ProcessMemory {
    /// `count` consecutive little-endian words at `address` in `pid`; nil when the read fails or comes up short
    /// (the address is unmapped, the process is gone, or access is denied).
    public static func words(pid: ProcessID, at address: UInt64, count: Int) -> [UInt64]? {
        guard count > 0, address != 0 else { return nil }
        var result = [UInt64](repeating: 0, count: count)
        let wanted = count * 8
        let got = result.withUnsafeMutableBytes { buffer in
            cperf_read_memory(pid.rawValue, buffer.baseAddress, wanted, address)
        }
        guard got == wanted else { return nil }
        return result
    }
}
