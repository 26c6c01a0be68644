// Pointer-heavy data structures: singly linked list (build, reverse, merge sort), doubly linked
// LRU list, a binary search tree with deletion, an AVL tree (rotations, height checks), and a hash
// table with chaining, all driven by a deterministic PRNG.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t s = 123456789u;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 17; s ^= s << 5; return s; }

struct node { int v; struct node *next; };
static struct node *push(struct node *h, int v) { struct node *n = malloc(sizeof *n); n->v = v; n->next = h; return n; }
static struct node *reverse(struct node *h) { struct node *p = NULL; while (h) { struct node *n = h->next; h->next = p; p = h; h = n; } return p; }
static struct node *merge(struct node *a, struct node *b) {
  struct node head, *t = &head;
  while (a && b) { if (a->v <= b->v) { t->next = a; a = a->next; } else { t->next = b; b = b->next; } t = t->next; }
  t->next = a ? a : b;
  return head.next;
}
static struct node *msort(struct node *h) {
  if (!h || !h->next) return h;
  struct node *slow = h, *fast = h->next;
  while (fast && fast->next) { slow = slow->next; fast = fast->next->next; }
  struct node *b = slow->next;
  slow->next = NULL;
  return merge(msort(h), msort(b));
}

struct bst { int k; struct bst *l, *r; };
static struct bst *bst_insert(struct bst *t, int k) {
  if (!t) { t = calloc(1, sizeof *t); t->k = k; return t; }
  if (k < t->k) t->l = bst_insert(t->l, k); else if (k > t->k) t->r = bst_insert(t->r, k);
  return t;
}
static struct bst *bst_delete(struct bst *t, int k) {
  if (!t) return NULL;
  if (k < t->k) t->l = bst_delete(t->l, k);
  else if (k > t->k) t->r = bst_delete(t->r, k);
  else {
    if (!t->l) { struct bst *r = t->r; free(t); return r; }
    if (!t->r) { struct bst *l = t->l; free(t); return l; }
    struct bst *m = t->r;
    while (m->l) m = m->l;
    t->k = m->k;
    t->r = bst_delete(t->r, m->k);
  }
  return t;
}
static void inorder(struct bst *t, unsigned long long *h, int *n) { if (!t) return; inorder(t->l, h, n); *h = *h * 31 + (unsigned)t->k; (*n)++; inorder(t->r, h, n); }
static int height(struct bst *t) { if (!t) return 0; int a = height(t->l), b = height(t->r); return 1 + (a > b ? a : b); }
static void bst_free(struct bst *t) { if (!t) return; bst_free(t->l); bst_free(t->r); free(t); }

struct avl { int k, h; struct avl *l, *r; };
static int ah(struct avl *t) { return t ? t->h : 0; }
static void fix(struct avl *t) { int a = ah(t->l), b = ah(t->r); t->h = 1 + (a > b ? a : b); }
static struct avl *rotr(struct avl *y) { struct avl *x = y->l; y->l = x->r; x->r = y; fix(y); fix(x); return x; }
static struct avl *rotl(struct avl *x) { struct avl *y = x->r; x->r = y->l; y->l = x; fix(x); fix(y); return y; }
static int rotations;
static struct avl *avl_insert(struct avl *t, int k) {
  if (!t) { t = calloc(1, sizeof *t); t->k = k; t->h = 1; return t; }
  if (k < t->k) t->l = avl_insert(t->l, k); else if (k > t->k) t->r = avl_insert(t->r, k); else return t;
  fix(t);
  int bal = ah(t->l) - ah(t->r);
  if (bal > 1) { rotations++; if (k > t->l->k) t->l = rotl(t->l); return rotr(t); }
  if (bal < -1) { rotations++; if (k < t->r->k) t->r = rotr(t->r); return rotl(t); }
  return t;
}
static int avl_check(struct avl *t, long lo, long hi) {
  if (!t) return 1;
  if (t->k <= lo || t->k >= hi) return 0;
  int b = ah(t->l) - ah(t->r);
  return b >= -1 && b <= 1 && avl_check(t->l, lo, t->k) && avl_check(t->r, t->k, hi);
}
static void avl_free(struct avl *t) { if (!t) return; avl_free(t->l); avl_free(t->r); free(t); }

struct entry { char key[16]; int val; struct entry *next; };
#define NB 1021
static struct entry *buckets[NB];
static unsigned hash(const char *k) { unsigned h = 2166136261u; while (*k) h = (h ^ (unsigned char)*k++) * 16777619u; return h; }

int main(void) {
  struct node *l = NULL;
  for (int i = 0; i < 50000; i++) l = push(l, (int)(rnd() % 100000));
  l = reverse(l);
  printf("list head after reverse: %d\n", l->v);
  l = msort(l);
  int ok = 1, cnt = 0;
  unsigned long long lh = 0;
  for (struct node *p = l; p; p = p->next) { if (p->next && p->v > p->next->v) ok = 0; lh = lh * 31 + (unsigned)p->v; cnt++; }
  printf("merge sort: n=%d sorted=%d min=%d hash=%016llx\n", cnt, ok, l->v, lh);
  while (l) { struct node *n = l->next; free(l); l = n; }

  struct bst *t = NULL;
  for (int i = 0; i < 20000; i++) t = bst_insert(t, (int)(rnd() % 50000));
  unsigned long long th = 0; int tn = 0;
  inorder(t, &th, &tn);
  printf("bst: n=%d height=%d hash=%016llx\n", tn, height(t), th);
  for (int i = 0; i < 50000; i += 3) t = bst_delete(t, i);
  th = 0; tn = 0;
  inorder(t, &th, &tn);
  printf("bst after deletes: n=%d height=%d hash=%016llx\n", tn, height(t), th);
  bst_free(t);

  struct avl *a = NULL;
  for (int i = 0; i < 100000; i++) a = avl_insert(a, i % 2 ? i : (int)(rnd() % 1000000)); /* half sorted input */
  printf("avl: height=%d rotations=%d valid=%d\n", ah(a), rotations, avl_check(a, -1, 2000000));
  avl_free(a);

  int inserted = 0, updated = 0;
  for (int i = 0; i < 30000; i++) {
    char key[16];
    snprintf(key, sizeof key, "k%u", rnd() % 20000);
    unsigned b = hash(key) % NB;
    struct entry *e = buckets[b];
    while (e && strcmp(e->key, key)) e = e->next;
    if (e) { e->val += i; updated++; }
    else { e = malloc(sizeof *e); snprintf(e->key, sizeof e->key, "%s", key); e->val = i; e->next = buckets[b]; buckets[b] = e; inserted++; }
  }
  int longest = 0; long long vs = 0;
  for (int b = 0; b < NB; b++) {
    int len = 0;
    for (struct entry *e = buckets[b]; e;) { len++; vs += e->val; struct entry *n = e->next; free(e); e = n; }
    if (len > longest) longest = len;
  }
  printf("hash table: inserted=%d updated=%d longest chain=%d value sum=%lld\n", inserted, updated, longest, vs);
  return 0;
}
