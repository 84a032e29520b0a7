/*  rusage.c — runs a command and reports its wall time, its CPU time (user +
    system, wait4's rusage: what a shared machine's load inflates least) and
    peak resident memory (wait4's ru_maxrss) on one line of stderr:

      wes_bench_rusage CMD [ARG...]
      -> "rusage: wall_ms=123.4 cpu_ms=120.1 maxrss_kb=5678 exit=0"

    The command's own output goes where ours goes. Exit status is the
    command's (128 + signal when it was killed). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
    if (argc < 2) {
        fprintf (stderr, "usage: wes_bench_rusage CMD [ARG...]\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    pid_t pid = fork ();
    if (pid < 0) {
        fprintf (stderr, "wes_bench_rusage: fork: %s\n", strerror (errno));
        return 2;
    }
    if (pid == 0) {
        execvp (argv[1], argv + 1);
        fprintf (stderr, "wes_bench_rusage: cannot run %s: %s\n", argv[1], strerror (errno));
        _exit (127);
    }
    int status = 0;
    struct rusage ru;
    memset (&ru, 0, sizeof ru);
    while (wait4 (pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            fprintf (stderr, "wes_bench_rusage: wait4: %s\n", strerror (errno));
            return 2;
        }
    }
    clock_gettime (CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    int code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
    double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3
                 + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    fprintf (stderr, "rusage: wall_ms=%.1f cpu_ms=%.1f maxrss_kb=%ld exit=%d\n", ms, cpu,
             ru.ru_maxrss, code);
    return code;
}
