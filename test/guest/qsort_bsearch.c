// qsort and bsearch: ints (with duplicates and extremes), strings, structs with a two-key
// comparator, doubles, already-sorted and reversed inputs, and lookups of present/absent keys.
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int cmp_dbl_desc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}
struct person { char name[16]; int age; };
static int cmp_person(const void *a, const void *b) {
  const struct person *p = a, *q = b;
  if (p->age != q->age) return p->age - q->age;
  return strcmp(p->name, q->name);
}

static uint32_t s = 2463534242u;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 17; s ^= s << 5; return s; }

int main(void) {
  enum { N = 20000 };
  static int v[N];
  for (int i = 0; i < N; i++) v[i] = (int)(rnd() % 5000) - 2500;
  v[7] = INT_MAX; v[99] = INT_MIN; v[1234] = INT_MIN;
  qsort(v, N, sizeof v[0], cmp_int);
  int sorted = 1;
  unsigned long long hsh = 0;
  for (int i = 0; i < N; i++) { if (i && v[i - 1] > v[i]) sorted = 0; hsh = hsh * 31 + (unsigned)v[i]; }
  printf("ints sorted=%d first=%d,%d,%d last=%d hash=%016llx\n", sorted, v[0], v[1], v[2], v[N - 1], hsh);
  int found = 0, absent = 0;
  for (int k = -2600; k <= 2600; k += 13) {
    int *p = bsearch(&k, v, N, sizeof v[0], cmp_int);
    if (p) { found++; if (*p != k) printf("bsearch returned wrong element\n"); }
    else absent++;
  }
  int kmax = INT_MAX;
  printf("bsearch found=%d absent=%d max_found=%d\n", found, absent, bsearch(&kmax, v, N, sizeof v[0], cmp_int) != NULL);

  /* already sorted, reversed and constant inputs */
  for (int i = 0; i < N; i++) v[i] = i;
  qsort(v, N, sizeof v[0], cmp_int);
  int ok1 = v[0] == 0 && v[N - 1] == N - 1;
  for (int i = 0; i < N; i++) v[i] = N - i;
  qsort(v, N, sizeof v[0], cmp_int);
  int ok2 = v[0] == 1 && v[N - 1] == N;
  for (int i = 0; i < N; i++) v[i] = 5;
  qsort(v, N, sizeof v[0], cmp_int);
  printf("sorted-input ok=%d reversed ok=%d constant ok=%d\n", ok1, ok2, v[0] == 5 && v[N - 1] == 5);

  const char *words[] = {"pear", "apple", "fig", "banana", "cherry", "apple", "date", "elderberry", "Apple", "grape",
                         "", "kiwi", "zucchini", "aardvark"};
  int nw = sizeof words / sizeof words[0];
  qsort(words, nw, sizeof words[0], cmp_str);
  for (int i = 0; i < nw; i++) printf("%s%s", i ? "," : "", words[i]);
  printf("\n");
  const char *key = "cherry";
  const char **hit = bsearch(&key, words, nw, sizeof words[0], cmp_str);
  printf("bsearch cherry at %ld\n", hit ? (long)(hit - words) : -1L);

  struct person people[] = {{"ann", 31}, {"bob", 25}, {"cid", 31}, {"dee", 19}, {"eve", 25}, {"fay", 40}, {"abe", 31}};
  int np = sizeof people / sizeof people[0];
  qsort(people, np, sizeof people[0], cmp_person);
  for (int i = 0; i < np; i++) printf("%s:%d ", people[i].name, people[i].age);
  printf("\n");

  double d[1000];
  for (int i = 0; i < 1000; i++) d[i] = (double)(rnd() % 100000) / 7.0 - 5000.0;
  qsort(d, 1000, sizeof d[0], cmp_dbl_desc);
  int desc = 1;
  for (int i = 1; i < 1000; i++) if (d[i - 1] < d[i]) desc = 0;
  printf("doubles desc=%d max=%.6f min=%.6f\n", desc, d[0], d[999]);
  return 0;
}
