import Testing

@testable import FPProfSampler

struct SamplerConfigurationTests {
    /// Waking for every sample makes batches of one sample: the stream then holds as many batches as a quarter ring
    /// holds samples times the usual limit, so that it buffers about as many bytes as with quarter-ring batches.
    @Test func streamBatchLimitScalesWithSamplesPerQuarterRing() {
        var c = SamplerConfiguration(stackSize: 16384, ringPages: 512, streamBufferLimit: 256)
        #expect(c.streamBatchLimit == 256)
        c.wakeupEverySample = true
        // A quarter of 512 pages is 512 KiB: 29 samples of 16 KiB and their overhead.
        #expect(c.streamBatchLimit == 256 * (512 * 4096 / 4 / (16384 + SamplerConfiguration.sampleOverhead)))
        #expect(c.streamBatchLimit == 256 * 29)
        // A ring whose quarter holds less than one sample still keeps the usual limit.
        c.ringPages = 8
        #expect(c.streamBatchLimit == 256)
    }
}
