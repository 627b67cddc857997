/* Sized by tests/tools/mcu-build.sh: the state a device holds in static RAM, as the protocol
 * needs it (the symbols' sizes are read from the object file). */
#include "legacy.h"
#include "peer.h"
#include "ratelimit.h"
#include "revocation.h"

struct peer mcu_one_peer;
struct peer_handshake mcu_handshake;
struct peer mcu_peer_table[16];
struct ratelimit_sender mcu_ratelimit[RATELIMIT_SENDERS];
struct legacy_nonce_cache mcu_legacy_nonces;
struct revocation mcu_revocation;
