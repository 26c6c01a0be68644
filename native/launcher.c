/*
 * The usmjit command (dist/usmjit): starts Node on the JavaScript launcher
 * (dist/src/usmjit-launcher.cjs) with the same arguments and environment.
 *
 * Why a program and not `#!/usr/bin/env node`: Node reads and parses every certificate that
 * NODE_EXTRA_CA_CERTS names when it starts, before any JavaScript runs (~40 ms on this machine with
 * Debian's bundle, a sixth of a static hello world's start-up), and usmjit never opens a TLS
 * connection. This launcher renames the variable in place (same position in the environment) to
 * USMJIT_HELD_NODE_EXTRA_CA_CERTS; src/cli.ts gives it back to the guest under its own name, so the
 * guest's environment is exactly the caller's. A shell script could not do this: it reorders the
 * environment and adds PWD.
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
#define CA "NODE_EXTRA_CA_CERTS="

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

  size_t envc = 0;
  while (environ[envc]) envc++;
  char **envp = calloc(envc + 1, sizeof *envp);
  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (!envp || !args) return 127;
  for (size_t i = 0; i < envc; i++) {
    char *e = environ[i];
    if (strncmp(e, CA, sizeof CA - 1) == 0) {
      char *held = malloc(sizeof HELD + strlen(e));
      if (!held) return 127;
      strcpy(held, HELD);
      strcat(held, e);
      e = held;
    }
    envp[i] = e;
  }
  args[0] = "node";
  args[1] = script;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];

  if (strchr(USMJIT_NODE, '/') && access(USMJIT_NODE, X_OK) == 0) execve(USMJIT_NODE, args, envp);
  environ = envp;
  execvp("node", args);
  fprintf(stderr, "usmjit: cannot run node (%s): %s\n", USMJIT_NODE, strerror(errno));
  return 127;
}
