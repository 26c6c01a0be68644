// CFLAGS: -pthread
// Four threads: each mixes a hash over its own slice (parallel work natively), and every 4096
// steps adds its partial sum to a shared total under a mutex; then all meet at a barrier and
// the main thread checks the total. usmjit runs guest threads in turn on one JS thread, so this
// shows what giving up parallelism costs against a 2-core native run.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define THREADS 4
#define STEPS 30000000L

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t barrier;
static uint64_t total;

static void *work(void *arg) {
  uint64_t x = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1, part = 0;
  for (long i = 0; i < STEPS; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    part += x >> 60;
    if ((i & 4095) == 4095) {
      pthread_mutex_lock(&lock);
      total += part;
      pthread_mutex_unlock(&lock);
      part = 0;
    }
  }
  pthread_mutex_lock(&lock);
  total += part;
  pthread_mutex_unlock(&lock);
  pthread_barrier_wait(&barrier);
  return 0;
}

int main(void) {
  pthread_t t[THREADS];
  pthread_barrier_init(&barrier, 0, THREADS);
  for (long i = 0; i < THREADS; i++) pthread_create(&t[i], 0, work, (void *)i);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], 0);
  printf("threads %d steps %ld total %llu\n", THREADS, STEPS, (unsigned long long)total);
  return 0;
}
