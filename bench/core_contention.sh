#!/usr/bin/env bash
# Do this machine's two cores slow each other? (docs/performance.md, "Per core, on a faster VM")
#   bash bench/core_contention.sh
# Two C loops, each timed on core 0 alone and then on cores 0 and 1 at once (taskset): integer arithmetic in registers
# (separate cores: the same time), and a sum over arrays of 1, 8, 24 and 256 MB (sharing the caches and the memory bus).
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/alu.c" <<'C'
#include <stdio.h>
#include <stdint.h>
#include <time.h>
int main(void) {
  volatile uint64_t sink; uint64_t x = 1; struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (uint64_t i = 0; i < 2000000000ULL; i++) { x = x * 6364136223846793005ULL + 1442695040888963407ULL; x ^= x >> 13; }
  sink = x; (void)sink;
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.3f\n", (b.tv_sec - a.tv_sec) + 1e-9 * (b.tv_nsec - a.tv_nsec));
  return 0;
}
C
cat > "$tmp/mem.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(int argc, char **argv) {
  size_t n = (size_t)atol(argv[1]) / 8; int reps = atoi(argv[2]); double *a = malloc(n * 8);
  for (size_t i = 0; i < n; i++) a[i] = i * 1e-9;
  struct timespec t0, t1; volatile double sink = 0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int r = 0; r < reps; r++) { double acc = 0; for (size_t i = 0; i < n; i += 8) acc += a[i]; sink += acc; }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("%.3f\n", (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec));
  return 0;
}
C
cc -O2 "$tmp/alu.c" -o "$tmp/alu"
cc -O2 "$tmp/mem.c" -o "$tmp/mem"
both() { taskset -c 0 "$@" > "$tmp/a" & taskset -c 1 "$@" > "$tmp/b"; wait; echo "$(cat "$tmp/a") $(cat "$tmp/b")"; }
echo "integer loop: one core $(taskset -c 0 "$tmp/alu") s; both cores at once $(both "$tmp/alu") s"
for bytes in 1000000 8000000 24000000 256000000; do
  reps=$((16000000000 / bytes))
  echo "sum over $((bytes / 1000000)) MB x $reps: one core $(taskset -c 0 "$tmp/mem" $bytes $reps) s; both cores at once $(both "$tmp/mem" $bytes $reps) s"
done
