/*
 * Lowers the scheduling priority of every thread of the process but the main one (src/worker-priority.ts
 * loads this library once at start-up, when Node's threads all exist).
 *
 * Why: the guest runs on Node's main thread, while V8 optimises hot Wasm regions (TurboFan) on
 * four platform worker threads. On a 2-core machine the workers took the main thread's core
 * half of the time; niced, they use what the main thread leaves. Measured here (cold runs,
 * interleaved): busybox sh loop -10%, static hello world start-up -7%, compute kernels 0..-5%.
 * USMJIT_WORKER_NICE sets the nice value (default 10; 0 leaves the threads alone).
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

__attribute__((constructor)) static void usmjit_worker_priority(void) {
  const char *v = getenv("USMJIT_WORKER_NICE");
  int nice = v ? atoi(v) : 10;
  if (nice <= 0) return;
  pid_t main_tid = getpid();
  DIR *d = opendir("/proc/self/task");
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int tid = atoi(e->d_name);
    if (tid > 0 && tid != main_tid) setpriority(PRIO_PROCESS, (id_t)tid, nice);
  }
  closedir(d);
}
