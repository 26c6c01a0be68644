/* Threads as a pthread program sees them: 4 threads increment a counter under a mutex, meet at a
 * condition-variable barrier, keep thread-local storage (static __thread and a pthread key), and
 * are joined; then one thread exits with pthread_exit and one ends holding a robust mutex. The
 * argument scales the work (the benchmark runs it with a large count). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

#define N 4
static long iters = 20000;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int arrived, generation;
static __thread long mine = 100;
static pthread_key_t key;
static int tids_distinct[N];

static void barrier(void) {
  pthread_mutex_lock(&lock);
  int gen = generation;
  if (++arrived == N) { arrived = 0; generation++; pthread_cond_broadcast(&cond); }
  else while (gen == generation) pthread_cond_wait(&cond, &lock);
  pthread_mutex_unlock(&lock);
}

static void *work(void *arg) {
  long id = (long)arg;
  mine = id;
  pthread_setspecific(key, (void *)(id * 10));
  tids_distinct[id] = (pid_t)syscall(SYS_gettid) != getpid() || id == -1;
  for (long i = 0; i < iters; i++) {
    pthread_mutex_lock(&lock);
    counter++;
    pthread_mutex_unlock(&lock);
    if (i % 1000 == 0) sched_yield();
  }
  barrier();
  long ok = mine == id && (long)pthread_getspecific(key) == id * 10;
  barrier();
  return (void *)(ok ? id + 1 : 0);
}

static void *quitter(void *arg) { (void)arg; pthread_exit((void *)42); return 0; }

static pthread_mutex_t robust;
static void *holder(void *arg) { (void)arg; pthread_mutex_lock(&robust); return 0; }

int main(int argc, char **argv) {
  if (argc > 1) iters = atol(argv[1]);
  pthread_key_create(&key, 0);
  pthread_t t[N];
  for (long i = 0; i < N; i++) pthread_create(&t[i], 0, work, (void *)i);
  long sum = 0;
  for (int i = 0; i < N; i++) { void *r; pthread_join(t[i], &r); sum += (long)r; }
  int distinct = 0;
  for (int i = 0; i < N; i++) distinct += tids_distinct[i];
  printf("counter %ld (expected %ld)\n", counter, iters * N);
  printf("thread results %ld (expected %d), main's TLS %ld, distinct tids %d\n", sum, N * (N + 1) / 2, mine, distinct);
  pthread_t q;
  void *r;
  pthread_create(&q, 0, quitter, 0);
  pthread_join(q, &r);
  printf("pthread_exit value %ld\n", (long)r);
  /* A robust mutex whose owner ended holding it (the kernel walks the robust list). */
  pthread_mutexattr_t at;
  pthread_mutexattr_init(&at);
  pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&robust, &at);
  pthread_create(&q, 0, holder, 0);
  pthread_join(q, 0);
  int e = pthread_mutex_lock(&robust);
  printf("robust mutex after its owner ended: %s\n", e == EOWNERDEAD ? "EOWNERDEAD" : "something else");
  return 0;
}
