/*
 * A Modbus TCP server on libmodbus for the Modbus benchmark (scripts/bench/modbus.ts):
 * 10,000 holding and input registers, any number of clients (select loop), answers every
 * unit id. Prints "port N" once listening on 127.0.0.1 (port 0 picks a free one).
 *
 * Build: gcc -O2 -o modbus_server modbus_server.c $(pkg-config --cflags --libs libmodbus)
 * Run:   ./modbus_server [port]
 */
#include <errno.h>
#include <modbus.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  modbus_t *ctx = modbus_new_tcp("127.0.0.1", port);
  modbus_mapping_t *map = modbus_mapping_new(0, 0, 10000, 10000);
  if (!ctx || !map) {
    fprintf(stderr, "Cannot allocate the libmodbus context or mapping\n");
    return 1;
  }
  for (int i = 0; i < 10000; i++) {
    map->tab_registers[i] = (uint16_t)(i * 7);
    map->tab_input_registers[i] = (uint16_t)(i * 3);
  }
  int server = modbus_tcp_listen(ctx, 64);
  if (server < 0) {
    fprintf(stderr, "Cannot listen on port %d: %s\n", port, modbus_strerror(errno));
    return 1;
  }
  struct sockaddr_in addr;
  socklen_t len = sizeof addr;
  getsockname(server, (struct sockaddr *)&addr, &len);
  printf("port %d\n", ntohs(addr.sin_port));
  fflush(stdout);
  fd_set all;
  FD_ZERO(&all);
  FD_SET(server, &all);
  int maxfd = server;
  uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
  for (;;) {
    fd_set ready = all;
    if (select(maxfd + 1, &ready, NULL, NULL, NULL) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    for (int fd = 0; fd <= maxfd; fd++) {
      if (!FD_ISSET(fd, &ready)) continue;
      if (fd == server) {
        int c = accept(server, NULL, NULL);
        if (c < 0) continue;
        FD_SET(c, &all);
        if (c > maxfd) maxfd = c;
        continue;
      }
      modbus_set_socket(ctx, fd);
      int rc = modbus_receive(ctx, query);
      if (rc > 0) {
        modbus_reply(ctx, query, rc, map);
      } else if (rc == -1) {
        close(fd);
        FD_CLR(fd, &all);
      }
    }
  }
}
