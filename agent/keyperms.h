/* keyperms.h - the check ssh makes of private key files: a file that holds a secret (node bundle,
 * X.509 client key, X25519 node key, PSK) must not be accessible by group or others. Such a file
 * is used with a warning that names it and the chmod that fixes it, or refused when the caller
 * asks for strict permissions (`--strict-perms`). docs/AGENT.md "Credentials". */
#ifndef MQTTIP_KEYPERMS_H
#define MQTTIP_KEYPERMS_H

#include <stdbool.h>
#include <stddef.h>

/* Checks the mode of path (following symlinks). Returns 0 when the file is private, when it is
 * not and strict is false (a warning line is logged: "PATH holds WHAT and is accessible by group
 * or others (mode 0644): chmod 600 PATH"), or when it cannot be stat'ed (its reader reports
 * that). Returns -1 with the same text and "(--strict-perms)" in err when strict. */
int keyperms_check(const char *path, const char *what, bool strict, char *err, size_t cap);

#endif
