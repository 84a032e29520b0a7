/*  wes_curve.h — CURVE certificates for the coordinator and the workers
    (DESIGN.md section 6, "Ironhouse": the coordinator and every worker
    are authenticated by certificate). Certificates are files in CZMQ's
    layout (ZPL, read by zcert_load): NAME.cert holds the public key,
    NAME.cert_secret the public and secret keys, mode 0600.

    This module writes key pairs (`wesley keygen`), loads and checks
    certificates with errors that say what is wrong with which file,
    applies them to sockets, and keeps the set of public keys an allow
    directory holds (read again when the directory changes), which is how
    the coordinator revokes a connected worker whose certificate was
    removed. */
#ifndef WES_CURVE_H
#define WES_CURVE_H

#include <czmq.h>
#include <stdbool.h>

#include "util/wes_mem.h"

/*  Longest certificate NAME (keygen): a file name, not data. */
#define WES_CURVE_MAX_NAME 64u
/*  Certificates an allow directory may hold: a fleet's workers, bounded
    so that a stray directory cannot make the coordinator read forever. */
#define WES_CURVE_MAX_CERTS 10000u
/*  Largest certificate file read: a certificate is a few hundred bytes. */
#define WES_CURVE_MAX_FILE (64u * 1024u)
/*  The ZAP domain of the coordinator's socket. */
#define WES_CURVE_ZAP_DOMAIN "wesley"
/*  A CURVE key as Z85 text is 40 characters. */
#define WES_CURVE_KEY_TXT 40u

/*  True when name is 1..WES_CURVE_MAX_NAME of [A-Za-z0-9._-] and does not
    start with a dot. */
bool wes_curve_valid_name (const char *name);

/*  Writes a new key pair: DIR/NAME.cert (public, 0644) and
    DIR/NAME.cert_secret (0600, created with that mode whatever the umask).
    DIR is created (0700) when missing. Existing files are refused unless
    force (then they are replaced atomically by rename). On success 0 and
    the two paths (caller frees; either pointer may be NULL); on failure -1
    with *error (caller frees). */
int wes_curve_keygen (const char *dir, const char *name, bool force, char **public_path,
                      char **secret_path, char **error) WES_MUST_USE;

/*  Loads a certificate that must hold a secret key (a NAME.cert_secret
    file). NULL with *error (caller frees) when the file is missing,
    unreadable, not a certificate, or holds only a public key. Caller
    destroys the result with zcert_destroy. */
zcert_t *wes_curve_load_secret (const char *path, char **error);
/*  Loads a certificate for its public key (NAME.cert or NAME.cert_secret).
    NULL with *error (caller frees) when it is missing, unreadable or not a
    certificate. */
zcert_t *wes_curve_load_public (const char *path, char **error);

/*  Makes sock a CURVE server with cert (borrowed; must hold the secret
    key), in the ZAP domain WES_CURVE_ZAP_DOMAIN. Before bind. */
void wes_curve_apply_server (zsock_t *sock, zcert_t *cert);
/*  Makes sock a CURVE client with its own cert (borrowed, with secret key)
    that accepts only the server key server_public (Z85). Before connect. */
void wes_curve_apply_client (zsock_t *sock, zcert_t *cert, const char *server_public);

/*  The public keys of the certificates in an allow directory. */
typedef struct wes_curve_allow wes_curve_allow_t;

/*  Reads dir. NULL with *error (caller frees) when dir is not a readable
    directory. An empty directory is allowed (nobody is). */
wes_curve_allow_t *wes_curve_allow_new (const char *dir, char **error);
void wes_curve_allow_destroy (wes_curve_allow_t **self_p);
/*  Reads the directory again when it changed since the last read (its
    modification time, or a read too close to it to be sure). Returns 1
    when it was read again, 0 when unchanged, -1 when it cannot be read
    any more: then nobody is allowed until it can (fail closed). */
int wes_curve_allow_refresh (wes_curve_allow_t *self);
/*  True when the Z85 public key is in the set last read. */
bool wes_curve_allow_has (const wes_curve_allow_t *self, const char *public_txt);
/*  Keys in the set last read. */
size_t wes_curve_allow_count (const wes_curve_allow_t *self);
/*  The directory (borrowed). */
const char *wes_curve_allow_dir (const wes_curve_allow_t *self);

#endif
