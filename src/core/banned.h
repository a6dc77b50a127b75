/*
 * banned.h - functions that must not be used in hmb (after git's banned.h).
 *
 * Each is replaced by a safer interface: buf_addf() for sprintf, str_to_i64()
 * for atoi, date functions of core/date.h for gmtime/localtime, libsodium's
 * randombytes_buf() for rand.
 */
#ifndef HMB_BANNED_H
#define HMB_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef atoll
#define atoll(x) BANNED(atoll)
#undef rand
#define rand() BANNED(rand)
#undef gets
#define gets(x) BANNED(gets)

#endif /* HMB_BANNED_H */
