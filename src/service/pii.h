/*
 * pii.h - personal data at rest: ID numbers and names are stored only
 * encrypted (XChaCha20-Poly1305, libsodium), with a blind index (keyed
 * BLAKE2b) for exact lookups by ID number.
 *
 * Keys: a 32-byte master key read from a key file (created with mode 0600
 * from the system's random source when it does not exist). Two subkeys
 * are derived from it (crypto_kdf): one for encryption, one for the blind
 * index. The ciphertext layout is version(1) || nonce(24) || ciphertext ||
 * tag(16); the additional data binds it to its column and record
 * ("persons|certno|<psn_no>|1"), so a ciphertext moved to another row or
 * column fails to decrypt. Key material is kept in locked memory where
 * the system allows, and wiped by pii_release().
 */
#ifndef HMB_PII_H
#define HMB_PII_H

#include "err.h"

#define PII_KEY_LEN  32
#define PII_BIDX_LEN 32
#define PII_OVERHEAD (1 + 24 + 16)
#define PII_VERSION  1

struct pii {
  unsigned char enc_key[PII_KEY_LEN];
  unsigned char idx_key[PII_KEY_LEN];
  bool ready;
};

/* Initialise libsodium (once per process) and load or create the key file.
 * HMB_IO when the file cannot be read or created, HMB_INVALID when it is
 * not exactly 32 bytes or is readable by others. */
enum hmb_status pii_init(struct pii *k, const char *key_file, struct hmb_err *err);
void pii_release(struct pii *k);

/* Encrypt text[0..n) for (column, record) into out (cap bytes; needs
 * n + PII_OVERHEAD). */
enum hmb_status pii_seal(const struct pii *k, const char *column, const char *record,
                         const char *text, size_t n, unsigned char *out, size_t cap, size_t *outlen,
                         struct hmb_err *err);
/* Decrypt into text (cap bytes, NUL-terminated); HMB_INVALID when the value
 * was tampered with, moved, or sealed under another key. */
enum hmb_status pii_open(const struct pii *k, const char *column, const char *record,
                         const unsigned char *in, size_t len, char *text, size_t cap,
                         struct hmb_err *err);
/* Blind index of an ID number (upper-cased 'x'). */
void pii_bidx(const struct pii *k, const char *certno, size_t n, unsigned char out[PII_BIDX_LEN]);

#endif /* HMB_PII_H */
