/*
 * The usmjit command (dist/usmjit): starts Node on the JavaScript launcher
 * (dist/src/usmjit-launcher.cjs) with the same arguments, and an environment that is the caller's
 * for the guest but tuned for Node.
 *
 * Why a program and not `#!/usr/bin/env node` (a shell script would reorder the environment and
 * add PWD, which the guest would see):
 * - Node reads and parses every certificate NODE_EXTRA_CA_CERTS names when it starts, before any
 *   JavaScript runs (~40 ms on this machine with Debian's bundle, a sixth of a static hello
 *   world's start-up), and usmjit opens no TLS connection.
 * - glibc's malloc gives each of V8's compile threads an arena that grows in small steps (one
 *   mprotect each) and shrinks again after each compile job: a 20,000-iteration busybox sh loop
 *   made ~1,500 such calls, and each interrupts the other CPU to flush its TLB, the guest's main
 *   thread included. With a top pad of 16 MiB from the start (a mallopt from a library loaded
 *   later comes too late: the threads' arenas exist) it made ~300: busybox sh loop -4%, bash loop
 *   -3%, static hello world -2%, for ~25 MB more resident memory.
 * - V8 places each WebAssembly module's code at a random address; dist/code-placement.so
 *   (native/code-placement.c), preloaded into Node, has the kernel pack them instead.
 * So the caller's NODE_EXTRA_CA_CERTS, GLIBC_TUNABLES and LD_PRELOAD keep their places under the
 * names USMJIT_HELD_<name>, GLIBC_TUNABLES and LD_PRELOAD are set for Node, and USMJIT_HOST_ONLY
 * names what src/cli.ts (guestEnv) must drop: the guest's environment is exactly the caller's
 * (a caller's LD_PRELOAD is the guest's, as -E LD_PRELOAD= would make it, not Node's).
 *
 * Node is the one that ran the build (USMJIT_NODE, baked in by scripts/build-native.mjs), else
 * `node` on PATH.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef USMJIT_NODE
#define USMJIT_NODE "node"
#endif

#define HELD "USMJIT_HELD_"

/* What Node gets instead (see above), and the variable naming it for src/cli.ts. */
static const char *const held[] = {"NODE_EXTRA_CA_CERTS=", "GLIBC_TUNABLES=", "LD_PRELOAD="};
static const char *const host_only[] = {"GLIBC_TUNABLES=glibc.malloc.top_pad=16777216", "USMJIT_HOST_ONLY=GLIBC_TUNABLES,LD_PRELOAD"};
#define COUNT(a) (sizeof (a) / sizeof *(a))

extern char **environ;

int main(int argc, char **argv) {
  /* dist/ is where this program is, symbolic links (npm link) resolved. */
  char dir[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
  if (n <= 0) {
    fprintf(stderr, "usmjit: cannot find its own path: %s\n", strerror(errno));
    return 127;
  }
  dir[n] = 0;
  char *slash = strrchr(dir, '/');
  if (slash) *slash = 0;
  char script[PATH_MAX + 64];
  snprintf(script, sizeof script, "%s/src/usmjit-launcher.cjs", dir);
  char preload[PATH_MAX + 64];
  snprintf(preload, sizeof preload, "LD_PRELOAD=%s/code-placement.so", dir);

  size_t envc = 0;
  while (environ[envc]) envc++;
  char **envp = calloc(envc + COUNT(host_only) + 2, sizeof *envp);
  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (!envp || !args) return 127;
  size_t k = 0;
  for (size_t i = 0; i < envc; i++) {
    char *e = environ[i];
    /* A variable of the caller's named like one of ours (a usmjit started from a usmjit guest's
     * shell has none: the guest sees the caller's environment) would be lost: not expected. */
    if (strncmp(e, "USMJIT_HOST_ONLY=", 17) == 0) continue;
    for (size_t h = 0; h < COUNT(held); h++) {
      if (strncmp(e, held[h], strlen(held[h])) == 0) {
        char *renamed = malloc(sizeof HELD + strlen(e));
        if (!renamed) return 127;
        strcpy(renamed, HELD);
        strcat(renamed, e);
        e = renamed;
        break;
      }
    }
    envp[k++] = e;
  }
  for (size_t h = 0; h < COUNT(host_only); h++) envp[k++] = (char *)host_only[h];
  envp[k++] = preload;
  args[0] = "node";
  args[1] = script;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];

  if (strchr(USMJIT_NODE, '/') && access(USMJIT_NODE, X_OK) == 0) execve(USMJIT_NODE, args, envp);
  environ = envp;
  execvp("node", args);
  fprintf(stderr, "usmjit: cannot run node (%s): %s\n", USMJIT_NODE, strerror(errno));
  return 127;
}
