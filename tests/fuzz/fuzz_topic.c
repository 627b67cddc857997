/* fuzz_topic - topic_parse on arbitrary bytes: a topic it accepts is rebuilt byte for byte by the
 * builders (one name per topic), and the classification agrees with the prefix test. */
#include "topic.h"

#include <stdlib.h>
#include <string.h>

#define PREFIX "mqttip"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *topic = (const char *)data;
	size_t plen = strlen(PREFIX);
	bool under = size >= plen && memcmp(topic, PREFIX, plen) == 0 &&
		     (size == plen || topic[plen] == '/');
	struct topic t;
	char buf[TOPIC_MAX];
	size_t n;

	switch (topic_parse(PREFIX, topic, size, &t)) {
	case TOPIC_OUTSIDE:
		if (under)
			abort();
		return 0;
	case TOPIC_INVALID:
		return 0;
	case TOPIC_DATA:
		n = topic_data(buf, sizeof(buf), PREFIX, &t.dst, &t.src);
		break;
	case TOPIC_KX:
		n = topic_kx(buf, sizeof(buf), PREFIX, &t.dst, &t.src);
		break;
	case TOPIC_CERT:
		n = topic_cert(buf, sizeof(buf), PREFIX, &t.dst);
		break;
	case TOPIC_LEGACY:
		n = topic_legacy(buf, sizeof(buf), PREFIX, &t.dst);
		break;
	case TOPIC_REVOCATION:
		n = topic_revocation(buf, sizeof(buf), PREFIX);
		break;
	default:
		abort();
	}
	if (!under || n != size || memcmp(buf, topic, size) != 0)
		abort();
	return 0;
}
