// CElfutils: the elfutils headers fpprof's symbolizer uses (libelf for symbol tables, libdw/libdwfl for DWARF).
// Only FPProfSymbols imports this module, and only with `internal import`, so no C type reaches a public API.
#include <elfutils/libdwfl.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

// openat2(2) has no glibc wrapper before 2.38. fpprof opens a containerized process's files through
// /proc/PID/root with RESOLVE_IN_ROOT, so that a link the container planted (`/usr/lib/libx.so -> /dev/sda`,
// `../../../etc/shadow`) resolves inside the container's root and never reaches the host's files.
static inline int celfutils_openat2(int dirfd, const char *path, int flags, unsigned long long resolve) {
    struct open_how how = {.flags = (unsigned long long)flags, .mode = 0, .resolve = resolve};
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

// memfd_create(2) with MFD_CLOEXEC: the vdso copy the ELF reader opens as /proc/self/fd/N (Glibc's Swift module
// does not export the wrapper without _GNU_SOURCE).
static inline int celfutils_memfd(const char *name) { return (int)syscall(SYS_memfd_create, name, 1u); }
