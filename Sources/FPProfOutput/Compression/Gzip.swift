internal import CZlib

/// gzip (RFC 1952) as pprof files are stored, written by zlib at its default level. zlib's header carries no name
/// and a modification time of 0, so the same profile always gives the same bytes.
enum Gzip {
    /// Why zlib refused: only a failed allocation, in practice.
    struct Failure: Error, CustomStringConvertible {
        var code: Int32
        var description: String { "zlib could not compress the profile (error \(code))" }
    }

    static func compress(_ input: [UInt8]) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        let started = czlib_gzip_init(&stream, Z_DEFAULT_COMPRESSION)
        guard started == Z_OK else { throw Failure(code: started) }
        defer { deflateEnd(&stream) }
        // A bound zlib guarantees for one whole-buffer call, plus the gzip header and trailer.
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        var input = input
        let status = input.withUnsafeMutableBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                // Invariant: both buffers outlive the call; zlib reads `avail_in` bytes and writes at most
                // `avail_out`, and an empty array's null base address is allowed with a count of 0.
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw Failure(code: status) }
        out.removeLast(out.count - Int(stream.total_out))
        return out
    }
}
