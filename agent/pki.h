/* pki.h - `mqttip pki`: the two trust roots of DESIGN.md issued by one tool. The broker PKI is
 * X.509 (OpenSSL 3, ECDSA P-256); the VPN PKI is the core's node certificate signed by an Ed25519
 * network CA. Directory layout, file formats and the bundle: docs/PKI.md. */
#ifndef MQTTIP_PKI_H
#define MQTTIP_PKI_H

int pki_init(int argc, char **argv);
int pki_issue(int argc, char **argv);
int pki_revoke(int argc, char **argv);
int pki_renew(int argc, char **argv);
int pki_revocation(int argc, char **argv);
int pki_rabbitmq(int argc, char **argv);
int pki_show(int argc, char **argv);
int pki_verify(int argc, char **argv);

#endif
