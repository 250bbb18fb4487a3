// CElfutils: the elfutils headers fpprof's symbolizer uses (libelf for symbol tables, libdw/libdwfl for DWARF).
// Only FPProfSymbols imports this module, and only with `internal import`, so no C type reaches a public API.
#include <elfutils/libdwfl.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>
