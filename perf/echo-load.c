/*
 * A closed-loop TCP echo load generator in C, for perf/net-echo.bench.ts.
 *
 * Why it exists: the bench's JavaScript load generator spends ~11 µs of CPU per message, on the
 * same 2 cores as the servers it measures, so it takes about half the box. This one spends a few
 * µs (one read and one write syscall per message, epoll_wait amortised over the ready sockets).
 * Same protocol as the JS one: `conns` connections to 127.0.0.1:port, each with one MSG-byte
 * message in flight; a message counts once all its MSG bytes have come back.
 *
 * usage: echo-load <port> <conns> <warm_ms> <ms>
 * stdout, one line each: "start" when the measured window opens, "stop" when it closes, then
 * "{"rate":R,"count":N}". Any failure: a message on stderr and exit status 1. Bounded: the whole
 * run lasts warm_ms + ms plus the connects.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64
#define MAX_CONNS 65536

static int pending[MAX_CONNS]; /* bytes of the message in flight not yet echoed, per fd */

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void die(const char *what) {
  fprintf(stderr, "echo-load: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* One whole message; with one message in flight the socket buffer never fills, so a short
   write means something is badly wrong. */
static void send_msg(int fd, const char *msg) {
  ssize_t n = write(fd, msg, MSG);
  if (n != MSG) die("write");
  pending[fd] = MSG;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: echo-load <port> <conns> <warm_ms> <ms>\n");
    return 2;
  }
  int port = atoi(argv[1]), conns = atoi(argv[2]);
  double warm_ms = atof(argv[3]), ms = atof(argv[4]);
  if (port <= 0 || port > 65535 || conns <= 0 || conns > 16384 || warm_ms < 0 || ms <= 0) {
    fprintf(stderr, "echo-load: bad arguments\n");
    return 2;
  }
  char msg[MSG], buf[65536];
  memset(msg, 1, MSG);
  int ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  static int fds[MAX_CONNS];
  for (int i = 0; i < conns; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (fd >= MAX_CONNS) { errno = EMFILE; die("socket"); }
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    fds[i] = fd;
  }
  /* every connection's first message, once all are connected (as the JS generator does) */
  for (int i = 0; i < conns; i++) send_msg(fds[i], msg);
  struct epoll_event evs[1024];
  double t_start = now_ms() + warm_ms, t_stop = t_start + ms, t_open = 0;
  int measuring = 0, done = 0;
  long count = 0;
  while (!done) {
    double t = now_ms();
    if (!measuring && t >= t_start) {
      measuring = 1;
      t_open = t;
      fputs("start\n", stdout);
      fflush(stdout);
    }
    if (measuring && t >= t_stop) break;
    double until = measuring ? t_stop : t_start;
    int wait = (int)(until - t) + 1;
    int n = epoll_wait(ep, evs, 1024, wait);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      ssize_t got = read(fd, buf, sizeof buf);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (got <= 0) {
        if (got == 0) errno = ECONNRESET;
        die("read");
      }
      pending[fd] -= (int)got;
      if (pending[fd] > 0) continue;
      if (measuring) count++;
      send_msg(fd, msg);
    }
  }
  double secs = (now_ms() - t_open) / 1e3;
  fputs("stop\n", stdout);
  printf("{\"rate\":%.1f,\"count\":%ld}\n", count / secs, count);
  fflush(stdout);
  return 0;
}
