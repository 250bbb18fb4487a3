/* The C part of the cgo fixture (burn.c), called from main.callC. */
#ifndef FPPROF_CGO_BURN_H
#define FPPROF_CGO_BURN_H

unsigned long c_outer(unsigned long x);

#endif
