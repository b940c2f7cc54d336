/*
 * The libmodbus C client loop of the Modbus benchmark (scripts/bench/modbus.ts): sequential
 * FC3 reads of COUNT holding registers on one connection for MS milliseconds (after 200 ms
 * of warm-up). Prints one JSON line: {"requests":N,"seconds":S}.
 *
 * Build: gcc -O2 -o modbus_client modbus_client.c $(pkg-config --cflags --libs libmodbus)
 * Run:   ./modbus_client PORT COUNT MS
 */
#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "Usage: modbus_client PORT COUNT MS\n");
    return 2;
  }
  int port = atoi(argv[1]), count = atoi(argv[2]);
  double secs = atoi(argv[3]) / 1000.0;
  modbus_t *ctx = modbus_new_tcp("127.0.0.1", port);
  if (!ctx || modbus_connect(ctx) < 0) {
    fprintf(stderr, "Cannot connect to 127.0.0.1:%d: %s\n", port, modbus_strerror(errno));
    return 1;
  }
  modbus_set_slave(ctx, 1);
  uint16_t regs[125];
  double t0 = now();
  while (now() - t0 < 0.2) {
    if (modbus_read_registers(ctx, 0, count, regs) != count) goto fail;
  }
  long n = 0;
  t0 = now();
  double t = t0;
  while (t - t0 < secs) {
    for (int i = 0; i < 64; i++) {
      if (modbus_read_registers(ctx, 0, count, regs) != count) goto fail;
    }
    n += 64;
    t = now();
  }
  printf("{\"requests\":%ld,\"seconds\":%.6f}\n", n, t - t0);
  modbus_close(ctx);
  modbus_free(ctx);
  return 0;
fail:
  fprintf(stderr, "Read failed: %s\n", modbus_strerror(errno));
  return 1;
}
