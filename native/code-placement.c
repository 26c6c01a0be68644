/*
 * Loaded into Node by the usmjit command (native/launcher.c sets LD_PRELOAD for Node alone):
 * anonymous mappings that Node asks for at an address hint get no hint, so the kernel packs them
 * next to each other instead of where the hint says.
 *
 * Why: V8 reserves every WebAssembly module's code space at a random address (each module gets a
 * fresh random hint), and usmjit compiles each batch of translated blocks as a module of its own,
 * ~400 for a busybox shell loop before relinking (jit/code-cache.ts) joins the hot ones. Scattered
 * over the 47-bit address space, every crossing between regions lands on code with page-table
 * entries of its own: a cold 20,000-iteration busybox sh loop 1.70 -> 1.49 s, 60,000 iterations
 * with relinking off 3.7 -> 2.9 s (measured with the hints dropped and with them replaced by a
 * bump pointer; dropped was the faster). A hint is only a hint: nothing may depend on getting it,
 * and V8 aligns what needs aligning itself. MAP_FIXED mappings and file mappings are left alone.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/types.h>

static void *(*real_mmap)(void *, size_t, int, int, int, off_t);

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  if (!real_mmap) real_mmap = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
  if (addr && (flags & MAP_ANONYMOUS) && !(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))) addr = NULL;
  return real_mmap(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) __attribute__((alias("mmap")));

/* Loaded: programs Node starts (prlimit when usmjit dies of a signal) need not load it too. */
__attribute__((constructor)) static void forget_preload(void) { unsetenv("LD_PRELOAD"); }
