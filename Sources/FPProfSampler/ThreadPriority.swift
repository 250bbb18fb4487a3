/// fpprof's own threads at the nice value fpprof was started with.
public enum ThreadPriority {
    /// Gives the calling thread the process's nice value. The record loop calls it for every batch: its task runs on
    /// Swift's pool threads, which libdispatch keeps at nice 0 whatever fpprof was started with, and which one runs
    /// the next batch can change at every `await`. Processed at 0 beside a target at -19, the batches pile up, and
    /// past `SamplerConfiguration.streamBufferLimit` of them newer ones are dropped.
    public static func matchProcess() { Sys.adoptProcessNice() }
}
