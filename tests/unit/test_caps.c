/* test_caps.c - the capability records of the handshake (common/caps.c), against bytes written
 * here by hand from PROTOCOL.md 6.15. */
#include <string.h>

#include "caps.h"
#include "check.h"

int main(void)
{
	/* max message 2048, features 5, revocation version 0x0102030405060708 */
	static const uint8_t known[] = {1, 4, 0x00, 0x08, 0, 0, 2, 4, 5, 0, 0,
					0, 3, 8,    8,	  7, 6, 5, 4, 3, 2, 1};
	struct caps c = {2048, 5, 0x0102030405060708ull}, d;
	uint8_t out[MQTTIP_HANDSHAKE_EXT_MAX], buf[64];
	size_t n = caps_encode(&c, out);

	CHECK_EQ_INT(n, sizeof(known));
	CHECK_MEM(out, known, sizeof(known));
	CHECK_EQ_INT(caps_decode(known, sizeof(known), &d), 0);
	CHECK(d.max_message == 2048 && d.features == 5 &&
	      d.revocation_version == c.revocation_version);

	/* nothing announced: the defaults */
	CHECK_EQ_INT(caps_decode(known, 0, &d), 0);
	CHECK(d.max_message == MQTTIP_MAX_TRANSPORT_MSG && d.features == 0 &&
	      d.revocation_version == 0);

	/* a record of a type we do not know is skipped, before and after known ones */
	memcpy(buf, (const uint8_t[]){0x80, 3, 'x', 'y', 'z'}, 5);
	memcpy(buf + 5, known, sizeof(known));
	memcpy(buf + 5 + sizeof(known), (const uint8_t[]){0x81, 0}, 2);
	CHECK_EQ_INT(caps_decode(buf, 5 + sizeof(known) + 2, &d), 0);
	CHECK_EQ_INT(d.max_message, 2048);

	/* malformed: truncated header, length past the end, wrong length of a known type, a
	 * maximum message outside MQTTIP_MIN_MESSAGE .. MQTTIP_MAX_TRANSPORT_MSG */
	CHECK_EQ_INT(caps_decode(known, 1, &d), -1);
	CHECK_EQ_INT(caps_decode(known, 5, &d), -1);
	CHECK_EQ_INT(d.max_message, MQTTIP_MAX_TRANSPORT_MSG);
	CHECK_EQ_INT(caps_decode((const uint8_t[]){2, 2, 1, 0}, 4, &d), -1);
	CHECK_EQ_INT(caps_decode((const uint8_t[]){1, 4, 0xfd, 0x05, 0, 0}, 6, &d), -1); /* 1533 */
	CHECK_EQ_INT(caps_decode((const uint8_t[]){1, 4, 0xfe, 0x05, 0, 0}, 6, &d), 0);	 /* 1534 */
	CHECK_EQ_INT(d.max_message, MQTTIP_MIN_MESSAGE);
	CHECK_EQ_INT(caps_decode((const uint8_t[]){1, 4, 0x21, 0x40, 0, 0}, 6, &d), -1); /* 16417 */
	return check_done();
}
