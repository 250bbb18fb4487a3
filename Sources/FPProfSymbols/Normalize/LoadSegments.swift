/// The bridge between the two address spaces a symbolizer meets. The caller hands over file offsets (where in the
/// file a sampled byte lies: `address - mapping.start + mapping.pgoff`), while symbol tables and DWARF speak in the
/// link-time virtual addresses the ELF headers use. The `PT_LOAD` program headers relate the two; reading them once
/// per file keeps the translation a short scan of a handful of segments.

/// One `PT_LOAD` program header: `fileSize` bytes at `fileOffset` in the file are loaded at `virtualAddress`.
struct LoadSegment: Hashable, Sendable {
    var fileOffset: UInt64
    var fileSize: UInt64
    var virtualAddress: UInt64
}

/// The loadable segments of one ELF file, in program header order.
struct LoadSegments: Hashable, Sendable {
    var segments: [LoadSegment]

    /// The link-time address of the byte at `offset`, or nil when no segment holds that byte. Only bytes that are
    /// in the file count: code always is, and an offset past a segment's file bytes cannot be a sampled instruction.
    func virtualAddress(forFileOffset offset: UInt64) -> UInt64? {
        for segment in segments where offset >= segment.fileOffset && offset - segment.fileOffset < segment.fileSize {
            // Wrapping: a corrupt header may place a segment at the top of the address space.
            return segment.virtualAddress &+ (offset - segment.fileOffset)
        }
        return nil
    }

    /// The file offset of the byte the headers place at link-time address `address`, or nil when it is not
    /// backed by file bytes (for example `.bss`).
    func fileOffset(forVirtualAddress address: UInt64) -> UInt64? {
        for segment in segments
        where address >= segment.virtualAddress && address - segment.virtualAddress < segment.fileSize {
            return segment.fileOffset &+ (address - segment.virtualAddress)
        }
        return nil
    }

    /// The file bytes behind link-time range `range`: the part inside the segment that holds its start (a function
    /// never spans segments). Nil when no segment has file bytes at its start.
    func fileOffsets(forVirtualRange range: Range<UInt64>) -> Range<UInt64>? {
        for segment in segments
        where range.lowerBound >= segment.virtualAddress && range.lowerBound - segment.virtualAddress < segment.fileSize
        {
            let start = segment.fileOffset &+ (range.lowerBound - segment.virtualAddress)
            let length = min(range.upperBound, segment.virtualAddress &+ segment.fileSize) - range.lowerBound
            return start..<(start &+ length)
        }
        return nil
    }
}
