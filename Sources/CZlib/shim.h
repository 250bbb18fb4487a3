// CZlib: Debian's zlib (zlib1g-dev), the deflate and gzip writer of pprof files, and the CRC-32 that checks a
// `.gnu_debuglink` file. FPProfOutput and FPProfSymbols import it with `internal import`, so no C type reaches a
// public API.
#include <zlib.h>

// deflateInit2 is a macro (it passes ZLIB_VERSION and sizeof(z_stream), which Swift cannot spell): this wrapper
// starts a deflate stream that writes gzip framing (window bits 15 + 16), with zlib's default memory level.
static inline int czlib_gzip_init(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
