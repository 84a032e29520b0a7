/*  wes_curve.c — CURVE certificates: key pairs, loading with clear errors,
    socket options, the allow directory's key set (see wes_curve.h). */
#include "wes_curve.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/wes_log.h"

/*  A directory read less than this long after its last change is read
    again next time: a change within the same timestamp tick would
    otherwise go unseen. */
#define S_RACY_NS 2000000000LL

struct wes_curve_allow {
    char *dir;             /* the allow directory, owned */
    zhashx_t *keys;        /* Z85 public key -> (void *) 1 */
    struct timespec mtime; /* the directory's mtime at the last read */
    ino_t ino;             /* its inode (a replaced directory is a change) */
    bool racy;             /* the last read was too close to mtime: read again */
    bool broken;           /* the last read failed: nobody is allowed */
};

static void s_err (char **error, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static int s_mkdirs (const char *dir, char **error);
static int s_write_file (const char *path, const char *text, mode_t mode, bool force, char **error);
static int s_check_file (const char *path, char **error);
static bool s_key_is_zero (const byte *key);
static int s_scan (wes_curve_allow_t *self, struct stat *st);
static zcert_t *s_load (const char *path, char **error);

bool
wes_curve_valid_name (const char *name)
{
    if (!name || !name[0] || name[0] == '.') {
        return false;
    }
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        if (n >= WES_CURVE_MAX_NAME) {
            return false;
        }
        char c = *p;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                  || c == '.' || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

int
wes_curve_keygen (const char *dir, const char *name, bool force, char **public_path,
                  char **secret_path, char **error)
{
    if (!dir || !dir[0]) {
        s_err (error, "no output directory given (--out DIR)");
        return -1;
    }
    if (!wes_curve_valid_name (name)) {
        s_err (error,
               "certificate name \"%.80s\" is not 1-%u characters of [A-Za-z0-9._-] "
               "(not starting with a dot)",
               name ? name : "", WES_CURVE_MAX_NAME);
        return -1;
    }
    if (s_mkdirs (dir, error) != 0) {
        return -1;
    }
    size_t n = strlen (dir) + strlen (name) + 32;
    char *pub = wes_alloc (n);
    char *sec = wes_alloc (n);
    snprintf (pub, n, "%s/%s.cert", dir, name);
    snprintf (sec, n, "%s/%s.cert_secret", dir, name);
    struct stat st;
    if (!force && (lstat (pub, &st) == 0 || lstat (sec, &st) == 0)) {
        s_err (error, "%s exists: not overwritten (--force replaces the pair)",
               lstat (pub, &st) == 0 ? pub : sec);
        free (pub);
        free (sec);
        return -1;
    }
    zcert_t *cert = zcert_new ();
    if (!cert) {
        s_err (error, "cannot make a key pair (libzmq built without CURVE?)");
        free (pub);
        free (sec);
        return -1;
    }
    char when[64] = "";
    time_t now = time (NULL);
    struct tm tm;
    if (gmtime_r (&now, &tm)) {
        strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    /*  ZPL (rfc.zeromq.org/spec:4), the layout zcert_load reads: a
        "metadata" section and a "curve" section with Z85 keys. Z85 has no
        quote or backslash, so the values need no escaping. */
    char text[1024];
    snprintf (text, sizeof text,
              "#   Wesley CURVE public certificate \"%s\", made %s by wesley keygen.\n"
              "#   Give it to the coordinator (--curve-allow DIR) or, for the\n"
              "#   coordinator's own, to the workers (--curve-server FILE).\n"
              "\n"
              "metadata\n"
              "    name = \"%s\"\n"
              "curve\n"
              "    public-key = \"%s\"\n",
              name, when, name, zcert_public_txt (cert));
    char stext[1024];
    snprintf (stext, sizeof stext,
              "#   Wesley CURVE SECRET certificate \"%s\", made %s by wesley keygen.\n"
              "#   Keep it private (mode 0600): it proves who its owner is.\n"
              "\n"
              "metadata\n"
              "    name = \"%s\"\n"
              "curve\n"
              "    public-key = \"%s\"\n"
              "    secret-key = \"%s\"\n",
              name, when, name, zcert_public_txt (cert), zcert_secret_txt (cert));
    zcert_destroy (&cert);
    int rc = s_write_file (sec, stext, 0600, force, error);
    explicit_bzero (stext, sizeof stext);
    if (rc == 0) {
        rc = s_write_file (pub, text, 0644, force, error);
        if (rc != 0 && !force) {
            (void)unlink (sec); /* no half pair left behind */
        }
    }
    if (rc == 0 && public_path) {
        *public_path = pub;
        pub = NULL;
    }
    if (rc == 0 && secret_path) {
        *secret_path = sec;
        sec = NULL;
    }
    free (pub);
    free (sec);
    return rc;
}

zcert_t *
wes_curve_load_public (const char *path, char **error)
{
    if (s_check_file (path, error) != 0) {
        return NULL;
    }
    return s_load (path, error);
}

zcert_t *
wes_curve_load_secret (const char *path, char **error)
{
    zcert_t *cert = wes_curve_load_public (path, error);
    if (!cert) {
        return NULL;
    }
    if (s_key_is_zero (zcert_secret_key (cert))) {
        s_err (error,
               "%s holds only a public key: give the secret certificate (NAME.cert_secret "
               "from wesley keygen)",
               path);
        zcert_destroy (&cert);
        return NULL;
    }
    struct stat st;
    if (stat (path, &st) == 0 && (st.st_mode & 0077) != 0) {
        wes_log_warn ("%s is readable by others (mode %03o): a secret certificate should be "
                      "0600",
                      path, (unsigned)(st.st_mode & 0777));
    }
    return cert;
}

void
wes_curve_apply_server (zsock_t *sock, zcert_t *cert)
{
    zcert_apply (cert, sock);
    zsock_set_curve_server (sock, 1);
    zsock_set_zap_domain (sock, WES_CURVE_ZAP_DOMAIN);
}

void
wes_curve_apply_client (zsock_t *sock, zcert_t *cert, const char *server_public)
{
    zcert_apply (cert, sock);
    zsock_set_curve_serverkey (sock, server_public);
}

wes_curve_allow_t *
wes_curve_allow_new (const char *dir, char **error)
{
    struct stat st;
    if (!dir || !dir[0]) {
        s_err (error, "no allow directory given");
        return NULL;
    }
    if (stat (dir, &st) != 0) {
        s_err (error, "%s: %s", dir, strerror (errno));
        return NULL;
    }
    if (!S_ISDIR (st.st_mode)) {
        s_err (error,
               "%s is not a directory (give the directory of the allowed workers' "
               "public certificates)",
               dir);
        return NULL;
    }
    DIR *d = opendir (dir);
    if (!d) {
        s_err (error, "%s: cannot read the directory: %s", dir, strerror (errno));
        return NULL;
    }
    closedir (d);
    wes_curve_allow_t *self = wes_new (wes_curve_allow_t);
    self->dir = wes_strdup (dir);
    self->keys = zhashx_new ();
    if (s_scan (self, &st) != 0) {
        s_err (error, "%s: cannot read the directory", dir);
        wes_curve_allow_destroy (&self);
        return NULL;
    }
    return self;
}

void
wes_curve_allow_destroy (wes_curve_allow_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_curve_allow_t *self = *self_p;
    zhashx_destroy (&self->keys);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

int
wes_curve_allow_refresh (wes_curve_allow_t *self)
{
    struct stat st;
    if (stat (self->dir, &st) != 0 || !S_ISDIR (st.st_mode)) {
        if (!self->broken) {
            wes_log_error ("allow directory %s cannot be read any more: no worker is allowed "
                           "until it can",
                           self->dir);
        }
        self->broken = true;
        zhashx_purge (self->keys);
        return -1;
    }
    bool same = !self->broken && !self->racy && st.st_ino == self->ino
                && st.st_mtim.tv_sec == self->mtime.tv_sec
                && st.st_mtim.tv_nsec == self->mtime.tv_nsec;
    if (same) {
        return 0;
    }
    if (s_scan (self, &st) != 0) {
        return -1;
    }
    return 1;
}

bool
wes_curve_allow_has (const wes_curve_allow_t *self, const char *public_txt)
{
    return public_txt && zhashx_lookup (self->keys, public_txt) != NULL;
}

size_t
wes_curve_allow_count (const wes_curve_allow_t *self)
{
    return zhashx_size (self->keys);
}

const char *
wes_curve_allow_dir (const wes_curve_allow_t *self)
{
    return self->dir;
}

/* ---------------------------------------------------------------- helpers */

static void
s_err (char **error, const char *fmt, ...)
{
    if (!error) {
        return;
    }
    char tmp[1024];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (tmp, sizeof tmp, fmt, ap);
    va_end (ap);
    free (*error);
    *error = wes_strdup (tmp);
}

/*  mkdir -p with mode 0700 for what it creates (exactly, whatever the umask). */
static int
s_mkdirs (const char *dir, char **error)
{
    char *path = wes_strdup (dir);
    size_t n = strlen (path);
    while (n > 1 && path[n - 1] == '/') {
        path[--n] = '\0';
    }
    for (char *p = path + 1;; p++) {
        bool last = *p == '\0';
        if (*p != '/' && !last) {
            continue;
        }
        char saved = *p;
        *p = '\0';
        struct stat st;
        if (stat (path, &st) != 0) {
            if (errno != ENOENT || mkdir (path, 0700) != 0 || chmod (path, 0700) != 0) {
                s_err (error, "cannot create %s: %s", path, strerror (errno));
                free (path);
                return -1;
            }
        }
        else if (!S_ISDIR (st.st_mode)) {
            s_err (error, "%s is not a directory", path);
            free (path);
            return -1;
        }
        *p = saved;
        if (last) {
            break;
        }
    }
    free (path);
    return 0;
}

/*  Writes text to path with exactly mode. Without force the file must not
    exist (O_EXCL). With force the text goes to PATH.new (created O_EXCL)
    and is renamed over path. */
static int
s_write_file (const char *path, const char *text, mode_t mode, bool force, char **error)
{
    size_t n = strlen (path) + 8;
    char *tmp = wes_alloc (n);
    snprintf (tmp, n, "%s.new", path);
    const char *target = force ? tmp : path;
    if (force) {
        (void)unlink (tmp); /* left by an interrupted keygen */
    }
    int fd = open (target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        s_err (error, "cannot create %s: %s%s", target, strerror (errno),
               errno == EEXIST ? " (--force replaces the pair)" : "");
        free (tmp);
        return -1;
    }
    size_t len = strlen (text), off = 0;
    int rc = fchmod (fd, mode);
    while (rc == 0 && off < len) {
        ssize_t w = write (fd, text + off, len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            rc = -1;
            break;
        }
        off += (size_t)w;
    }
    if (rc == 0) {
        rc = fsync (fd);
    }
    int saved = errno;
    if (close (fd) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc == 0 && force && rename (tmp, path) != 0) {
        rc = -1;
        saved = errno;
    }
    if (rc != 0) {
        s_err (error, "cannot write %s: %s", target, strerror (saved));
        (void)unlink (target);
    }
    free (tmp);
    return rc;
}

static int
s_check_file (const char *path, char **error)
{
    struct stat st;
    if (!path || !path[0]) {
        s_err (error, "no certificate file given");
        return -1;
    }
    if (stat (path, &st) != 0) {
        s_err (error, "%s: %s", path, strerror (errno));
        return -1;
    }
    if (!S_ISREG (st.st_mode)) {
        s_err (error, "%s is not a file (a certificate from wesley keygen)", path);
        return -1;
    }
    if (st.st_size > (off_t)WES_CURVE_MAX_FILE) {
        s_err (error, "%s: %lld bytes is too large for a certificate", path, (long long)st.st_size);
        return -1;
    }
    if (access (path, R_OK) != 0) {
        s_err (error, "%s: cannot read: %s", path, strerror (errno));
        return -1;
    }
    return 0;
}

static bool
s_key_is_zero (const byte *key)
{
    byte any = 0;
    for (int i = 0; key && i < 32; i++) {
        any |= key[i];
    }
    return any == 0;
}

/*  Reads every certificate directly in the directory (hidden files and
    sub-directories skipped; NAME.cert_secret files count with their
    public key, as CZMQ's certificate store counts them). */
static int
s_scan (wes_curve_allow_t *self, struct stat *st)
{
    DIR *d = opendir (self->dir);
    if (!d) {
        if (!self->broken) {
            wes_log_error ("allow directory %s cannot be read: %s; no worker is allowed until "
                           "it can",
                           self->dir, strerror (errno));
        }
        self->broken = true;
        zhashx_purge (self->keys);
        return -1;
    }
    zhashx_purge (self->keys);
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir (d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        if (files++ >= WES_CURVE_MAX_CERTS) {
            wes_log_warn ("allow directory %s holds more than %u files: the rest are ignored",
                          self->dir, WES_CURVE_MAX_CERTS);
            break;
        }
        size_t n = strlen (self->dir) + strlen (e->d_name) + 2;
        char *path = wes_alloc (n);
        snprintf (path, n, "%s/%s", self->dir, e->d_name);
        struct stat fst;
        if (stat (path, &fst) == 0 && S_ISREG (fst.st_mode)
            && fst.st_size <= (off_t)WES_CURVE_MAX_FILE) {
            zcert_t *cert = s_load (path, NULL);
            if (cert) {
                zhashx_update (self->keys, zcert_public_txt (cert), (void *)1);
                zcert_destroy (&cert);
            }
        }
        free (path);
    }
    closedir (d);
    if (self->broken) {
        wes_log_info ("allow directory %s can be read again", self->dir);
    }
    self->broken = false;
    self->ino = st->st_ino;
    self->mtime = st->st_mtim;
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    long long age = (long long)(now.tv_sec - st->st_mtim.tv_sec) * 1000000000LL
                    + (now.tv_nsec - st->st_mtim.tv_nsec);
    self->racy = age < S_RACY_NS;
    return 0;
}

/*  Reads exactly the file at path (zcert_load would prefer a PATH_secret
    beside it, and leaks on a file it cannot parse): ZPL with
    curve/public-key and, for a secret certificate, curve/secret-key, each
    40 characters of Z85. A missing secret key leaves it all zero. */
static zcert_t *
s_load (const char *path, char **error)
{
    size_t len = 0;
    FILE *f = fopen (path, "rb");
    if (!f) {
        s_err (error, "%s: %s", path, strerror (errno));
        return NULL;
    }
    char *text = wes_alloc (WES_CURVE_MAX_FILE + 1);
    len = fread (text, 1, WES_CURVE_MAX_FILE + 1, f);
    bool bad = ferror (f) != 0 || len > WES_CURVE_MAX_FILE;
    fclose (f);
    zconfig_t *root = NULL;
    if (!bad && memchr (text, '\0', len) == NULL) {
        text[len] = '\0';
        root = zconfig_str_load (text);
    }
    explicit_bzero (text, WES_CURVE_MAX_FILE + 1);
    free (text);
    const char *pub = root ? zconfig_get (root, "curve/public-key", NULL) : NULL;
    const char *sec = root ? zconfig_get (root, "curve/secret-key", NULL) : NULL;
    byte pk[32] = {0}, sk[32] = {0};
    zcert_t *cert = NULL;
    if (pub && strlen (pub) == WES_CURVE_KEY_TXT && zmq_z85_decode (pk, pub)
        && (!sec || (strlen (sec) == WES_CURVE_KEY_TXT && zmq_z85_decode (sk, sec) != NULL))) {
        cert = zcert_new_from (pk, sk);
    }
    explicit_bzero (sk, sizeof sk);
    zconfig_destroy (&root);
    if (!cert) {
        s_err (error,
               "%s: not a CURVE certificate (a ZPL file with curve/public-key, as written "
               "by wesley keygen)",
               path);
    }
    return cert;
}
