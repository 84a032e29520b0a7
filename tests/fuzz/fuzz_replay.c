/*  fuzz_replay.c — feeds every file of the given directories to
    LLVMFuzzerTestOneInput, so that CTest replays the fuzz corpus and every
    crash ever found without needing clang or libFuzzer. A harness that
    breaks aborts, which fails the test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/*  Runs one file; returns 0, or -1 when it can not be read. */
static int
s_replay_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        fprintf (stderr, "fuzz_replay: cannot open %s\n", path);
        return -1;
    }
    size_t cap = 4096;
    size_t len = 0;
    uint8_t *data = malloc (cap);
    if (!data) {
        abort ();
    }
    size_t n;
    while ((n = fread (data + len, 1, cap - len, file)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            data = realloc (data, cap);
            if (!data) {
                abort ();
            }
        }
    }
    int failed = ferror (file);
    fclose (file);
    if (failed) {
        free (data);
        fprintf (stderr, "fuzz_replay: cannot read %s\n", path);
        return -1;
    }
    /*  An exactly sized copy, so that a sanitizer catches any overread. */
    uint8_t *exact = malloc (len ? len : 1);
    if (!exact) {
        abort ();
    }
    memcpy (exact, data, len);
    free (data);
    LLVMFuzzerTestOneInput (exact, len);
    free (exact);
    return 0;
}

int
main (int argc, char **argv)
{
    size_t files = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        DIR *dir = opendir (argv[i]);
        if (!dir) {
            fprintf (stderr, "fuzz_replay: cannot open directory %s\n", argv[i]);
            rc = 1;
            continue;
        }
        struct dirent *entry;
        while ((entry = readdir (dir)) != NULL) {
            if (entry->d_name[0] == '.' || strcmp (entry->d_name, "README.md") == 0) {
                continue;
            }
            char path[4096];
            snprintf (path, sizeof path, "%s/%s", argv[i], entry->d_name);
            struct stat st;
            if (stat (path, &st) != 0 || !S_ISREG (st.st_mode)) {
                continue;
            }
            if (s_replay_file (path) != 0) {
                rc = 1;
            }
            files++;
        }
        closedir (dir);
    }
    printf ("fuzz_replay: %zu inputs replayed\n", files);
    if (files == 0) {
        fprintf (stderr, "fuzz_replay: no inputs found\n");
        return 1;
    }
    return rc;
}
