import FPProfCore

/// A frame as the flamegraph, speedscope and folded text show it: the stack's context (process, thread, marker)
/// followed by one frame per function, inlined calls included, root first.
struct DisplayFrame: Hashable, Sendable {
    enum Role: Hashable, Sendable {
        case process
        case thread
        /// `[fp-loop]` and the other unwind markers: the rest of the stack above it is unknown.
        case marker
        case code(FrameKind, inlined: Bool)
    }

    var name: String
    var role: Role
    /// Index into `NamedProfile.modules`, for code frames whose module is known.
    var module: Int?
    /// Index into `NamedProfile.functions`, for code frames.
    var function: Int?
}

extension NamedProfile {
    /// The frames of `stack`, root first. `context` adds the process (thread, goroutine, when split so) frames
    /// that folded text and the flamegraph start with; the marker of an incomplete walk is always there.
    func displayFrames(of stack: NamedStack, context: Bool = true) -> [DisplayFrame] {
        var out: [DisplayFrame] = []
        out.reserveCapacity(stack.locations.count + 3)
        if context {
            out.append(DisplayFrame(name: stack.process, role: .process))
            if let thread = stack.thread {
                out.append(DisplayFrame(name: thread + (stack.tid.map { "/\($0)" } ?? ""), role: .thread))
            }
            if let goroutine = stack.goroutine {
                out.append(DisplayFrame(name: "goroutine \(goroutine)", role: .thread))
            }
        }
        if let marker = stack.status.marker { out.append(DisplayFrame(name: marker, role: .marker)) }
        for li in stack.locations {
            let location = locations[li]
            for line in location.lines {
                let function = functions[line.function]
                out.append(
                    DisplayFrame(
                        name: function.name, role: .code(function.kind, inlined: line.isInlined),
                        module: location.module, function: line.function))
            }
        }
        return out
    }
}
