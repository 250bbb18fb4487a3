// CMalloc: glibc's <malloc.h>, which Swift's Glibc module leaves out; the daemon calls malloc_trim(3) from it.
#include <malloc.h>
