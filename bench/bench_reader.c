/*
 * bench_reader: the settlement CSV reader alone, on one core.
 *
 * Reads a settlements file (and its details file) through setl_reader_next()
 * to the end, REPS times each, in the same process: the reader as it runs
 * (the AVX-512 row split and amounts when the CPU has them, else the AVX2
 * split), the
 * reader with its portable code only (HMB_TEST_SCALAR=1: the SSE2 split,
 * the amounts one by one), and the peer, the cheapest pass over the same
 * bytes (counting lines with memchr on the same mapping). Prints rows
 * and bytes per second by the thread's CPU time (page cache faults
 * included), the fastest pass of each, and the ratios. Both readers must
 * read the same rows and the same sum of psn_part_amt, or the run fails.
 *
 * Usage: bench_reader SETTLEMENTS.csv [DETAILS.csv] [REPS]
 */
#include "compat.h"
#include "setl_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

static double cpu_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One pass over the file: rows read, their psn_part_amt summed. */
static int pass(const char *path, const char *details, size_t *rows, hmb_fen *sum, double *secs)
{
  struct setl_reader *r = NULL;
  struct settlement s;
  struct hmb_err err;
  bool eof = false;
  double t0 = cpu_now();
  hmb_err_init(&err);
  *rows = 0;
  *sum = 0;
  if (setl_reader_open(&r, path, SETL_FMT_CSV, details, &err)) {
    fprintf(stderr, "bench_reader: %s: %s\n", err.field, err.message);
    return -1;
  }
  for (;;) {
    enum hmb_status st = setl_reader_next(r, &s, &eof, &err);
    if (st == HMB_INVALID || st == HMB_TOO_LARGE)
      continue;
    if (st) {
      fprintf(stderr, "bench_reader: %s: %s\n", err.field, err.message);
      setl_reader_free(r);
      return -1;
    }
    if (eof)
      break;
    ++*rows;
    *sum += s.psn_part_amt;
  }
  setl_reader_free(r);
  *secs = cpu_now() - t0;
  return 0;
}

/* The peer: the file's lines counted with memchr over a fresh mapping. */
static int peer_pass(const char *path, size_t *lines, double *secs)
{
  struct stat st;
  double t0 = cpu_now();
  const char *p, *e;
  void *m;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) || st.st_size <= 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (m == MAP_FAILED)
    return -1;
  (void)madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
  *lines = 0;
  for (p = m, e = p + st.st_size; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
    ++*lines;
  munmap(m, (size_t)st.st_size);
  *secs = cpu_now() - t0;
  return 0;
}

int main(int argc, char **argv)
{
  const char *path, *details;
  int reps, k;
  double best[3] = {1e30, 1e30, 1e30};
  size_t rows[2] = {0, 0}, lines = 0;
  hmb_fen sum[2] = {0, 0};
  struct stat st;
  if (argc < 2) {
    fprintf(stderr, "usage: bench_reader SETTLEMENTS.csv [DETAILS.csv] [REPS]\n");
    return 2;
  }
  path = argv[1];
  details = argc > 2 && argv[2][0] ? argv[2] : NULL;
  reps = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3;
  if (reps < 1)
    reps = 1;
  if (stat(path, &st)) {
    perror(path);
    return 2;
  }
  for (k = 0; k < 3 * reps; k++) {
    int v = k % 3; /* 0: the reader, 1: its portable code, 2: the peer */
    double secs;
    if (v == 2) {
      if (peer_pass(path, &lines, &secs)) {
        perror(path);
        return 2;
      }
    } else {
      if (v)
        setenv("HMB_TEST_SCALAR", "1", 1);
      else
        unsetenv("HMB_TEST_SCALAR");
      if (pass(path, details, &rows[v], &sum[v], &secs))
        return 2;
    }
    if (secs < best[v])
      best[v] = secs;
  }
  printf("bench_reader: %s, %zu rows, %.0f MB, fastest of %d passes, thread CPU time\n", path,
         rows[0], (double)st.st_size / 1e6, reps);
  printf("reader            %.3f s  %5.2f M rows/s  %5.0f MB/s\n", best[0],
         (double)rows[0] / best[0] / 1e6, (double)st.st_size / best[0] / 1e6);
  printf("reader, portable  %.3f s  %5.2f M rows/s  %5.0f MB/s  (%.2fx the reader's time)\n",
         best[1], (double)rows[1] / best[1] / 1e6, (double)st.st_size / best[1] / 1e6,
         best[1] / best[0]);
  printf("peer (count lines) %.3f s  %5.2f M lines/s %5.0f MB/s\n", best[2],
         (double)lines / best[2] / 1e6, (double)st.st_size / best[2] / 1e6);
  printf("ratio reader/peer: %.1fx\n", best[0] / best[2]);
  if (rows[0] != rows[1] || sum[0] != sum[1]) {
    printf("FAIL: the two splits read different rows (%zu/%zu) or amounts\n", rows[0], rows[1]);
    return 1;
  }
  return 0;
}
