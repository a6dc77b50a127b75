#include "compat.h"
#include "pii.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#define KDF_CONTEXT "HMBPII01"
#define SUBKEY_ENC  1
#define SUBKEY_IDX  2

static enum hmb_status read_key(const char *path, unsigned char key[PII_KEY_LEN], bool *created,
                                struct hmb_err *err)
{
  unsigned char extra;
  struct stat st;
  ssize_t n;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  *created = false;
  if (fd < 0 && errno == ENOENT) {
    /* O_EXCL: two processes starting at once must not write two keys */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      randombytes_buf(key, PII_KEY_LEN);
      n = write(fd, key, PII_KEY_LEN);
      if (n != PII_KEY_LEN || fsync(fd)) {
        close(fd);
        unlink(path);
        sodium_memzero(key, PII_KEY_LEN);
        return hmb_err_set(err, HMB_IO, "pii.key_write", "key_file", "无法写入密钥文件");
      }
      close(fd);
      *created = true;
      return HMB_OK;
    }
    if (errno != EEXIST)
      return hmb_err_set(err, HMB_IO, "pii.key_create", "key_file", "无法创建密钥文件");
    fd = open(path, O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0)
    return hmb_err_set(err, HMB_IO, "pii.key_read", "key_file", "无法读取密钥文件");
  if (fstat(fd, &st) || (st.st_mode & 077)) {
    close(fd);
    return hmb_err_set(err, HMB_INVALID, "pii.key_mode", "key_file",
                       "密钥文件权限过宽：只允许所有者读写（chmod 600）");
  }
  n = read(fd, key, PII_KEY_LEN);
  if (n == PII_KEY_LEN && read(fd, &extra, 1) != 0)
    n = -1;
  close(fd);
  if (n != PII_KEY_LEN) {
    sodium_memzero(key, PII_KEY_LEN);
    return hmb_err_set(err, HMB_INVALID, "pii.key_size", "key_file", "密钥文件应恰为 32 字节");
  }
  return HMB_OK;
}

enum hmb_status pii_init(struct pii *k, const char *key_file, struct hmb_err *err)
{
  unsigned char master[PII_KEY_LEN];
  bool created;
  enum hmb_status result;
  memset(k, 0, sizeof(*k));
  if (sodium_init() < 0)
    return hmb_err_set(err, HMB_IO, "pii.sodium", "", "libsodium 初始化失败");
  result = read_key(key_file, master, &created, err);
  if (result)
    return result;
  sodium_mlock(k, sizeof(*k)); /* best effort: may fail under RLIMIT_MEMLOCK */
  crypto_kdf_derive_from_key(k->enc_key, PII_KEY_LEN, SUBKEY_ENC, KDF_CONTEXT, master);
  crypto_kdf_derive_from_key(k->idx_key, PII_KEY_LEN, SUBKEY_IDX, KDF_CONTEXT, master);
  sodium_memzero(master, sizeof(master));
  k->ready = true;
  return HMB_OK;
}

void pii_release(struct pii *k)
{
  sodium_munlock(k, sizeof(*k)); /* also wipes */
  k->ready = false;
}

static size_t make_ad(char *ad, size_t cap, const char *column, const char *record)
{
  int n = snprintf(ad, cap, "persons|%s|%s|%d", column, record, PII_VERSION);
  return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

enum hmb_status pii_seal(const struct pii *k, const char *column, const char *record,
                         const char *text, size_t n, unsigned char *out, size_t cap, size_t *outlen,
                         struct hmb_err *err)
{
  char ad[160];
  size_t adn = make_ad(ad, sizeof(ad), column, record);
  unsigned long long clen = 0;
  if (!k->ready)
    BUG("pii_seal before pii_init");
  if (n + PII_OVERHEAD > cap)
    return hmb_err_set(err, HMB_TOO_LARGE, "pii.too_long", column, "个人信息字段过长");
  out[0] = PII_VERSION;
  randombytes_buf(out + 1, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  crypto_aead_xchacha20poly1305_ietf_encrypt(out + 25, &clen, (const unsigned char *)text, n,
                                             (const unsigned char *)ad, adn, NULL, out + 1,
                                             k->enc_key);
  *outlen = 25 + (size_t)clen;
  return HMB_OK;
}

enum hmb_status pii_open(const struct pii *k, const char *column, const char *record,
                         const unsigned char *in, size_t len, char *text, size_t cap,
                         struct hmb_err *err)
{
  char ad[160];
  size_t adn = make_ad(ad, sizeof(ad), column, record);
  unsigned long long mlen = 0;
  if (!k->ready)
    BUG("pii_open before pii_init");
  if (len < PII_OVERHEAD || in[0] != PII_VERSION || len - PII_OVERHEAD + 1 > cap)
    return hmb_err_set(err, HMB_INVALID, "pii.format", column, "个人信息密文格式错误");
  if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)text, &mlen, NULL, in + 25,
                                                 len - 25, (const unsigned char *)ad, adn, in + 1,
                                                 k->enc_key))
    return hmb_err_set(err, HMB_INVALID, "pii.tampered", column,
                       "个人信息无法解密（密钥或数据不符）");
  text[mlen] = '\0';
  return HMB_OK;
}

void pii_bidx(const struct pii *k, const char *certno, size_t n, unsigned char out[PII_BIDX_LEN])
{
  char norm[32];
  size_t i;
  if (n > sizeof(norm))
    n = sizeof(norm);
  for (i = 0; i < n; i++)
    norm[i] = certno[i] == 'x' ? 'X' : certno[i];
  crypto_generichash(out, PII_BIDX_LEN, (const unsigned char *)norm, n, k->idx_key, PII_KEY_LEN);
  sodium_memzero(norm, sizeof(norm));
}
