/*  store_bench.c — the checkpoint store's throughput on a disk: durable
    transitions per second with each put committed alone and with group
    commits, against raw SQLite durable commits (WAL, synchronous=FULL, one
    INSERT per transaction) on the same directory; then a run of
    TARGETS x STEPS instances: create, read-write open (quick_check, new
    epoch) and each_step (how resume loads).

    wes_store_bench [-d DIR] [-n TRANSITIONS] [-t TARGETS] [-s STEPS] [-r RUNS]
    DIR defaults to the current directory (put it on the disk the state
    file will live on); a private subdirectory is made and removed. Prints
    a markdown table and one JSON line. Throughputs are the median of RUNS
    (default 3) interleaved runs. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "coordinator/wes_store.h"

/*  Most repetitions (-r). */
#define S_MAX_RUNS 15

typedef struct {
    const char *what;
    double seconds;
    double count;
    const char *unit;
} s_row_t;

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
s_remove_store (const char *path)
{
    const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char name[4400];
        snprintf (name, sizeof name, "%s%s", path, suffixes[i]);
        unlink (name);
    }
}

static void
s_die (const char *what, const char *detail)
{
    fprintf (stderr, "wes_store_bench: %s: %s\n", what, detail ? detail : "");
    exit (1);
}

/*  Raw SQLite: n durable commits of one INSERT each. */
static double
s_raw_sqlite (const char *dir, long n)
{
    char path[4200];
    snprintf (path, sizeof path, "%s/raw.db", dir);
    s_remove_store (path);
    sqlite3 *db = NULL;
    if (sqlite3_open (path, &db) != SQLITE_OK) {
        s_die ("raw sqlite open", sqlite3_errmsg (db));
    }
    const char *setup = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                        "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, s TEXT)";
    if (sqlite3_exec (db, setup, NULL, NULL, NULL) != SQLITE_OK) {
        s_die ("raw sqlite setup", sqlite3_errmsg (db));
    }
    sqlite3_stmt *ins = NULL;
    if (sqlite3_prepare_v2 (db, "INSERT INTO t (v, s) VALUES (?1, 'dispatched')", -1, &ins, NULL)
        != SQLITE_OK) {
        s_die ("raw sqlite prepare", sqlite3_errmsg (db));
    }
    double t0 = s_now ();
    for (long i = 0; i < n; i++) {
        sqlite3_bind_int64 (ins, 1, i);
        if (sqlite3_step (ins) != SQLITE_DONE) {
            s_die ("raw sqlite insert", sqlite3_errmsg (db));
        }
        sqlite3_reset (ins);
    }
    double dt = s_now () - t0;
    sqlite3_finalize (ins);
    sqlite3_close (db);
    s_remove_store (path);
    return dt;
}

/*  n store transitions committed in groups of `group` (0: each alone). */
static double
s_store_puts (const char *dir, long n, long group)
{
    char path[4200];
    snprintf (path, sizeof path, "%s/state-%ld.db", dir, group);
    s_remove_store (path);
    wes_store_target_t targets[] = {{"db0", "dbname=db0", NULL}, {"db1", "dbname=db1", NULL}};
    size_t n_steps = 1000;
    char *error = NULL;
    wes_store_t *s = wes_store_create (path, "{}", "hash", targets, 2, n_steps, &error);
    if (!s) {
        s_die ("create", error);
    }
    double t0 = s_now ();
    long i = 0;
    while (i < n) {
        if (group > 0 && wes_store_begin (s) != 0) {
            s_die ("begin", path);
        }
        long end = group > 0 ? i + group : i + 1;
        for (; i < end && i < n; i++) {
            wes_store_step_t st = {.target = (uint32_t)(i % 2),
                                   .step = (uint32_t)((i / 2) % (long)n_steps),
                                   .state = (wes_step_state_t)(i % 5),
                                   .attempts = (uint32_t)(i / 2000 + 1),
                                   .attempt_id = "0123456789abcdef",
                                   .worker = "worker-1"};
            if (wes_store_put_step (s, &st, "dispatched", "bench") != 0) {
                s_die ("put", path);
            }
        }
        if (group > 0 && wes_store_commit (s) != 0) {
            s_die ("commit", path);
        }
    }
    double dt = s_now () - t0;
    wes_store_destroy (&s);
    s_remove_store (path);
    return dt;
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static double
s_median (double *v, long n)
{
    qsort (v, (size_t)n, sizeof v[0], s_cmp_double);
    return v[n / 2];
}

static void
s_count_fn (const wes_store_step_t *step, void *arg)
{
    size_t *n = arg;
    if (step->state == WES_SS_PENDING) {
        (*n)++;
    }
}

int
main (int argc, char **argv)
{
    const char *base = ".";
    long n = 2000;
    long n_targets = 1000;
    long n_steps = 1000;
    long runs = 3;
    int opt;
    while ((opt = getopt (argc, argv, "d:n:t:s:r:h")) != -1) {
        switch (opt) {
        case 'd':
            base = optarg;
            break;
        case 'n':
            n = strtol (optarg, NULL, 10);
            break;
        case 't':
            n_targets = strtol (optarg, NULL, 10);
            break;
        case 's':
            n_steps = strtol (optarg, NULL, 10);
            break;
        case 'r':
            runs = strtol (optarg, NULL, 10);
            break;
        default:
            fprintf (stderr, "usage: wes_store_bench [-d DIR] [-n TRANSITIONS] [-t TARGETS] "
                             "[-s STEPS] [-r RUNS]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (n < 1 || n_targets < 1 || n_steps < 1 || runs < 1 || runs > S_MAX_RUNS) {
        s_die ("arguments", "counts must be positive (at most 15 runs)");
    }
    char dir[4096];
    snprintf (dir, sizeof dir, "%s/wes-store-bench-XXXXXX", base);
    if (!mkdtemp (dir)) {
        s_die ("mkdtemp", strerror (errno));
    }

    /*  Interleaved runs, median of each: the disk is shared and noisy. */
    double t_raw[S_MAX_RUNS], t_single[S_MAX_RUNS], t_g10[S_MAX_RUNS], t_g100[S_MAX_RUNS];
    for (long r = 0; r < runs; r++) {
        t_raw[r] = s_raw_sqlite (dir, n);
        t_single[r] = s_store_puts (dir, n, 0);
        t_g10[r] = s_store_puts (dir, n * 5, 10);
        t_g100[r] = s_store_puts (dir, n * 20, 100);
    }
    double raw = s_median (t_raw, runs);
    double single = s_median (t_single, runs);
    double g10 = s_median (t_g10, runs);
    double g100 = s_median (t_g100, runs);
    s_row_t rows[8];
    size_t n_rows = 0;
    rows[n_rows++] =
        (s_row_t){"raw SQLite durable commits (1 INSERT each)", raw, (double)n, "commits/s"};
    rows[n_rows++] =
        (s_row_t){"store transitions, each committed alone", single, (double)n, "transitions/s"};
    rows[n_rows++] =
        (s_row_t){"store transitions, groups of 10", g10, (double)n * 5, "transitions/s"};
    rows[n_rows++] =
        (s_row_t){"store transitions, groups of 100", g100, (double)n * 20, "transitions/s"};

    /*  A large run: create, reopen, load. */
    char path[4200];
    snprintf (path, sizeof path, "%s/large.db", dir);
    wes_store_target_t *targets = calloc ((size_t)n_targets, sizeof *targets);
    char (*names)[32] = calloc ((size_t)n_targets, sizeof *names);
    for (long i = 0; i < n_targets; i++) {
        snprintf (names[i], sizeof names[i], "db%05ld", i);
        targets[i].name = names[i];
        targets[i].conninfo = "host=/tmp";
    }
    double instances = (double)n_targets * (double)n_steps;
    double t0 = s_now ();
    char *error = NULL;
    wes_store_t *s =
        wes_store_create (path, "{}", "hash", targets, (size_t)n_targets, (size_t)n_steps, &error);
    if (!s) {
        s_die ("create large", error);
    }
    wes_store_destroy (&s);
    double t_create = s_now () - t0;
    rows[n_rows++] = (s_row_t){"create (instances)", t_create, instances, "instances/s"};
    t0 = s_now ();
    s = wes_store_open (path, false, &error);
    if (!s) {
        s_die ("open large", error);
    }
    double t_open = s_now () - t0;
    rows[n_rows++] = (s_row_t){"read-write open (quick_check, epoch)", t_open, 1, "opens/s"};
    t0 = s_now ();
    size_t pending = 0;
    if (wes_store_each_step (s, s_count_fn, &pending) != 0) {
        s_die ("each_step", path);
    }
    double t_each = s_now () - t0;
    rows[n_rows++] = (s_row_t){"each_step (resume load)", t_each, instances, "instances/s"};
    wes_store_destroy (&s);
    if ((double)pending != instances) {
        s_die ("each_step", "wrong count");
    }
    struct stat sb;
    long long bytes = stat (path, &sb) == 0 ? (long long)sb.st_size : -1;
    s_remove_store (path);
    rmdir (dir);
    free (targets);
    free (names);

    printf ("| what | count | seconds | rate |\n| --- | ---: | ---: | ---: |\n");
    for (size_t i = 0; i < n_rows; i++) {
        printf ("| %s | %.0f | %.3f | %.0f %s |\n", rows[i].what, rows[i].count, rows[i].seconds,
                rows[i].count / rows[i].seconds, rows[i].unit);
    }
    printf ("\nlarge run: %ld targets x %ld steps, file %.1f MiB\n", n_targets, n_steps,
            (double)bytes / 1048576.0);
    printf ("{\"raw_commits_per_s\":%.0f,\"single_per_s\":%.0f,\"group10_per_s\":%.0f,"
            "\"group100_per_s\":%.0f,\"instances\":%.0f,\"create_s\":%.3f,\"open_s\":%.3f,"
            "\"each_step_s\":%.3f,\"file_bytes\":%lld}\n",
            (double)n / raw, (double)n / single, (double)n * 5 / g10, (double)n * 20 / g100,
            instances, t_create, t_open, t_each, bytes);
    return 0;
}
