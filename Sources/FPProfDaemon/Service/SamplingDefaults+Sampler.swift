import FPProfSampler
import FPProfSymbols

extension SamplingDefaults {
    /// The sampler's settings for one session of a target with these choices: the daemon's windows and the
    /// on-demand profiles of the HTTP side open their events alike. `executable` is the sampled program, nil for a
    /// per-CPU (cgroup, unit, all) session.
    func samplerConfiguration(executable: String?) -> SamplerConfiguration {
        var c = SamplerConfiguration()
        c.frequency = frequency
        c.stackSize = stackSize
        c.includeKernelCallchain = kernel
        switch userCallchain {
        case .always: c.includeUserCallchain = true
        case .never: c.includeUserCallchain = false
        // A wide target has no one executable: the kernel's chain would cost every process on the host.
        case .auto: c.includeUserCallchain = executable.map(GoExecutable.isGo(path:)) ?? false
        }
        // A quarter second of samples per CPU ring, between 128 and 2048 pages, as `fpprof record` sizes it.
        let bytes = frequency * (stackSize + 512) / 4
        var pages = 128
        while pages < 2048 && pages * 4096 < bytes { pages *= 2 }
        c.ringPages = pages
        // Goroutine ids are read from the live process when a sample is processed: as soon after it as can be.
        c.wakeupEverySample = perGoroutine
        return c
    }
}
