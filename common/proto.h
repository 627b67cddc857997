/* proto.h - constants fixed by the wire specification (docs/PROTOCOL.md), under the spec's names.
 * Nothing else in the tree may restate one of these numbers. */
#ifndef MQTTIP_PROTO_H
#define MQTTIP_PROTO_H

#include <stdint.h>

/* Versions and labels */
#define MQTTIP_PROTOCOL_VERSION 2
#define MQTTIP_NOISE_PROTOCOL	"Noise_IKpsk2_25519_ChaChaPoly_SHA256"
#define MQTTIP_PROLOGUE_LABEL	"mqttip/2" /* 8 bytes, first field of the prologue */
#define MQTTIP_LABEL_MAC1	"mac1----"
#define MQTTIP_TOPIC_PREFIX	"mqttip"	     /* default; configurable per deployment */
#define MQTTIP_SYS_PREFIX	"$SYS/broker/mqttip" /* broker plugin's tree, admins only */
#define MQTTIP_METRICS_TOPIC	"$SYS/broker/mqttip/metrics" /* plugin's JSON document */

/* Message types (first byte of every handshake and transport message) */
#define MQTTIP_MSG_INITIATION 1
#define MQTTIP_MSG_RESPONSE   2
#define MQTTIP_MSG_TRANSPORT  4
/* Directory and revocation messages on the key-exchange topics (PROTOCOL.md 6.16): type |
 * version | reserved(2) = 0 | body. */
#define MQTTIP_MSG_CERT_REQUEST 3 /* "send me your certificate": no body */
#define MQTTIP_MSG_CERTIFICATE	5 /* body: the sender's node certificate */
#define MQTTIP_MSG_REVOCATION	6 /* body: a VPN revocation list (4.8) */
#define MQTTIP_KX_HEADER_LEN	4

/* Primitive sizes */
#define MQTTIP_KEY_LEN	      32 /* X25519 keys, ChaCha20-Poly1305 keys, PSK */
#define MQTTIP_HASH_LEN	      32 /* SHA-256 */
#define MQTTIP_AEAD_TAG_LEN   16
#define MQTTIP_MAC_LEN	      16 /* mac1: HMAC-SHA-256 truncated */
#define MQTTIP_TIMESTAMP_LEN  12 /* TAI64N, big-endian: compares with memcmp */
#define MQTTIP_NETWORK_ID_LEN 32 /* the network CA's Ed25519 public key */

/* Handshake messages (see PROTOCOL.md "Handshake"). Both carry the sender's capabilities
 * (PROTOCOL.md 6.15) in their encrypted payload: up to MQTTIP_HANDSHAKE_EXT_MAX bytes. */
#define MQTTIP_HANDSHAKE_EXT_MAX 32
/* Bits of the capability CAPS_FEATURES (PROTOCOL.md 6.15): optional formats a node accepts. */
#define MQTTIP_FEATURE_OFFLOAD 0x00000001u /* offload records in transport bodies (7.4.1) */
#define MQTTIP_INITIATION_FIXED_LEN                                                                \
	(4 + 4 + MQTTIP_KEY_LEN + (MQTTIP_KEY_LEN + MQTTIP_AEAD_TAG_LEN) + MQTTIP_TIMESTAMP_LEN +  \
	 1 + MQTTIP_AEAD_TAG_LEN + MQTTIP_MAC_LEN) /* plus the capabilities and the certificate */
#define MQTTIP_RESPONSE_MIN_LEN (4 + 4 + 4 + MQTTIP_KEY_LEN + MQTTIP_AEAD_TAG_LEN + MQTTIP_MAC_LEN)
#define MQTTIP_RESPONSE_MAX_LEN (MQTTIP_RESPONSE_MIN_LEN + MQTTIP_HANDSHAKE_EXT_MAX)
#define MQTTIP_INITIATION_MAX_LEN                                                                  \
	(MQTTIP_INITIATION_FIXED_LEN + MQTTIP_HANDSHAKE_EXT_MAX + MQTTIP_CERT_MAX_LEN)

/* Transport messages */
#define MQTTIP_TRANSPORT_HEADER_LEN 16 /* type, 3 reserved, receiver index, counter */
#define MQTTIP_TRANSPORT_OVERHEAD   (MQTTIP_TRANSPORT_HEADER_LEN + MQTTIP_AEAD_TAG_LEN)
#define MQTTIP_BATCH_RECORD_HEADER  2 /* big-endian length before each IP packet */
#define MQTTIP_MAX_IP_PACKET	    1500
#define MQTTIP_MAX_BODY		    16384 /* plaintext of one transport message */
#define MQTTIP_MAX_TRANSPORT_MSG    (MQTTIP_MAX_BODY + MQTTIP_TRANSPORT_OVERHEAD)
/* The transport message one IP packet of len bytes makes alone (a batch of one record). */
#define MQTTIP_PACKET_MESSAGE_LEN(len)                                                             \
	(MQTTIP_TRANSPORT_OVERHEAD + MQTTIP_BATCH_RECORD_HEADER + (len))
/* The smallest limit a node may set on the messages it accepts: one full IP packet. */
#define MQTTIP_MIN_MESSAGE MQTTIP_PACKET_MESSAGE_LEN(MQTTIP_MAX_IP_PACKET)
/* Offload records (PROTOCOL.md 7.4.1): a length with its top bit set carries a super-packet with
 * 4 bytes of segmentation metadata before it, to peers that announced MQTTIP_FEATURE_OFFLOAD. */
#define MQTTIP_OFFLOAD_RECORD_FLAG   0x8000
#define MQTTIP_OFFLOAD_META_LEN	     4 /* gso type (1), flags (1), segment size (2, big-endian) */
#define MQTTIP_OFFLOAD_RECORD_HEADER (MQTTIP_BATCH_RECORD_HEADER + MQTTIP_OFFLOAD_META_LEN)
#define MQTTIP_OFFLOAD_MAX_PACKET    (MQTTIP_MAX_BODY - MQTTIP_OFFLOAD_RECORD_HEADER)
#define MQTTIP_OFFLOAD_MAX_SEGMENTS  64	  /* segments one offload record may stand for */
#define MQTTIP_GSO_NONE		     0	  /* one packet (maybe with a partial checksum) */
#define MQTTIP_GSO_TCP		     1	  /* TCP segments of the segment size (TSO) */
#define MQTTIP_GSO_UDP		     2	  /* UDP datagrams of the segment size (USO) */
#define MQTTIP_GSO_FLAG_CSUM	     0x01 /* the L4 checksum field holds the pseudo-header sum */

/* Replay window: a receiver accepts at least this many counters below the highest it accepted
 * (the window itself is receiver-local: replay.h REPLAY_WINDOW) */
#define MQTTIP_REPLAY_WINDOW_MIN 1024

/* Counters and timers (milliseconds; rekey/reject times are defaults, configurable) */
#define MQTTIP_REKEY_AFTER_MESSAGES  (UINT64_C(1) << 60)
#define MQTTIP_REJECT_AFTER_MESSAGES (UINT64_MAX - (UINT64_C(1) << 13))
#define MQTTIP_REKEY_AFTER_TIME_MS   120000
#define MQTTIP_REJECT_AFTER_TIME_MS  180000
#define MQTTIP_REKEY_ATTEMPT_TIME_MS 90000
#define MQTTIP_REKEY_TIMEOUT_MS	     5000
#define MQTTIP_REKEY_TIMEOUT_MAX_MS  40000 /* retry interval backoff cap (doubles from 5 s) */
#define MQTTIP_KEEPALIVE_TIMEOUT_MS  10000
#define MQTTIP_REVOCATION_PUBLISH_DELAY_MS                                                         \
	2000 /* after connecting, before renewing the retained list */

/* Handshake flood limits, per sender address */
#define MQTTIP_HANDSHAKE_RATE_PER_SEC 20
#define MQTTIP_HANDSHAKE_BURST	      5
/* ... and across all senders together, so a flood from many addresses stays bounded too */
#define MQTTIP_HANDSHAKE_GLOBAL_RATE_PER_SEC 100
#define MQTTIP_HANDSHAKE_GLOBAL_BURST	     20

/* VPN node certificates */
#define MQTTIP_CERT_MAGIC      "MQC" /* followed by the format version byte */
#define MQTTIP_CERT_VERSION    1
#define MQTTIP_CERT_NAME_MAX   63
#define MQTTIP_CERT_MAX_ADDRS  4
#define MQTTIP_CERT_MAX_ROUTES 8
#define MQTTIP_CERT_KEY_ID_LEN 8 /* first bytes of SHA-256 of the issuing CA's public key */
#define MQTTIP_CERT_SIG_LEN    64
#define MQTTIP_CERT_MAX_LEN    512

/* VPN revocation list (PROTOCOL.md 4.8): header, serials, keys, signature by the network CA */
#define MQTTIP_REVOCATION_MAGIC	     "MQR" /* followed by the format byte */
#define MQTTIP_REVOCATION_FORMAT     1
#define MQTTIP_REVOCATION_HEADER_LEN 32 /* magic, format, key id, version, issued_at, counts */
#define MQTTIP_REVOCATION_SERIAL_LEN 8
#define MQTTIP_REVOCATION_MIN_LEN    (MQTTIP_REVOCATION_HEADER_LEN + MQTTIP_CERT_SIG_LEN)
#define MQTTIP_REVOCATION_MAX_LEN    2048 /* one MQTT message, one device buffer: 61 keys */

/* Legacy MQTT_VPN (martin-ger) messages: nonce | 16 zero bytes | tag | ciphertext */
#define MQTTIP_LEGACY_NONCE_LEN 24
#define MQTTIP_LEGACY_ZERO_LEN	16
#define MQTTIP_LEGACY_OVERHEAD	(MQTTIP_LEGACY_NONCE_LEN + MQTTIP_LEGACY_ZERO_LEN + 16)
/* The legacy message one IP packet of len bytes makes. */
#define MQTTIP_LEGACY_MESSAGE_LEN(len) (MQTTIP_LEGACY_OVERHEAD + (len))
/* The largest message one IP packet of len bytes makes on a node that runs secure mode, and
 * legacy mode too when legacy is non-zero: the least a node's message limit may be. */
#define MQTTIP_NODE_MESSAGE_LEN(len, legacy)                                                       \
	((legacy) && MQTTIP_LEGACY_MESSAGE_LEN(len) > MQTTIP_PACKET_MESSAGE_LEN(len)               \
	     ? MQTTIP_LEGACY_MESSAGE_LEN(len)                                                      \
	     : MQTTIP_PACKET_MESSAGE_LEN(len))

#endif
