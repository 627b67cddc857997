/* fuzz_batch.c - the batch reader on arbitrary bodies: every packet it hands out lies inside the
 * input with a length in 1..MQTTIP_MAX_IP_PACKET, errors are sticky, and writing the packets back
 * with batch_append() reproduces the bytes the reader consumed. */
#include <stdlib.h>
#include <string.h>

#include "batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t rebuilt[MQTTIP_MAX_BODY];
	struct batch_reader r;
	const uint8_t *pkt;
	size_t len, consumed = 0, used = 0;
	int rc;

	batch_reader_init(&r, data, size);
	while ((rc = batch_next(&r, &pkt, &len)) == 1) {
		if (pkt < data + consumed + MQTTIP_BATCH_RECORD_HEADER || len == 0 ||
		    len > MQTTIP_MAX_IP_PACKET || len > size || pkt + len > data + size)
			abort();
		consumed = (size_t)(pkt - data) + len;
		if (consumed <= MQTTIP_MAX_BODY) {
			used = batch_append(rebuilt, sizeof(rebuilt), used, pkt, len);
			if (used != consumed)
				abort();
		}
	}
	if (rc < 0 && batch_next(&r, &pkt, &len) != rc)
		abort();
	if (rc == 0 && batch_next(&r, &pkt, &len) != 0)
		abort();
	if (consumed <= MQTTIP_MAX_BODY && memcmp(rebuilt, data, consumed) != 0)
		abort();
	return 0;
}
