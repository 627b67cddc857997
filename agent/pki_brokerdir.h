/* pki_brokerdir.h - getting the broker's files of a PKI (DIR/broker/ca.crt, crl.pem, policy) to
 * where mosquitto reads them. mosquitto reads its own copies (docs/PKI.md "Deployment"), so a
 * revocation written only into DIR/broker/ would not revoke: with --broker-dir the commands that
 * change those files also write them into the broker's directory, each keeping the owner, group
 * and mode it has there; without it they print the exact commands that copy them. */
#ifndef MQTTIP_PKI_BROKERDIR_H
#define MQTTIP_PKI_BROKERDIR_H

#include <stddef.h>

#include "pki_args.h"

#define PKI_DEFAULT_BROKER_DIR "/etc/mosquitto/mqttip"
#define PKI_BROKER_DIR_FLAG                                                                        \
	{                                                                                          \
		.name = "--broker-dir", .value = "DIR", .max = 1,                                  \
		.help = "also write ca.crt, crl.pem, policy into the broker's directory "          \
			"(e.g. " PKI_DEFAULT_BROKER_DIR "), keeping owner, group, mode"            \
	}

/* Refuses (error line, MQTTIP_EXIT_FAILED) a broker_dir that is not a writable directory, so a
 * command fails before it changes anything. */
int pki_broker_dir_check(const char *broker_dir);
/* After a command changed the files named in changed ("crl.pem", "policy", relative to
 * DIR/broker/; none is fine): with broker_dir, writes ca.crt, crl.pem and policy there and says
 * so; without, prints the commands that copy the changed files to PKI_DEFAULT_BROKER_DIR and
 * reload mosquitto (nothing when none changed). 0, or the error line printed. */
int pki_broker_apply(const char *dir, const char *broker_dir, const char *const *changed,
		     size_t n_changed);

#endif
