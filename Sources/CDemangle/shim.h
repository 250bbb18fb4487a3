// CDemangle: libiberty's demangler (Debian's libiberty-dev), which reads C++ (Itanium) and Rust (legacy and v0)
// names. Only FPProfSymbols imports it, with `internal import`.
#include <stddef.h>
#include <libiberty/demangle.h>
