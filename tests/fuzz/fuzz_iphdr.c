/* fuzz_iphdr - iphdr_parse on arbitrary bytes: never reads past len, and what it accepts is
 * consistent with the raw header fields. */
#include "iphdr.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iphdr_info info;
	int rc = iphdr_parse(data, size, &info);

	if (iphdr_strerror(rc) == NULL)
		abort();
	if (rc != IPHDR_OK)
		return 0;
	if (info.version != data[0] >> 4 || info.header_len > info.total_len ||
	    info.total_len > size || info.src.family != info.version ||
	    info.dst.family != info.version)
		abort();
	if (info.version == 4) {
		if (info.header_len != (data[0] & 0xf) * 4 || info.protocol != data[9] ||
		    memcmp(info.src.bytes, data + 12, 4) != 0 ||
		    memcmp(info.dst.bytes, data + 16, 4) != 0)
			abort();
	} else {
		if (info.header_len != 40 || info.protocol != data[6] ||
		    memcmp(info.src.bytes, data + 8, 16) != 0 ||
		    memcmp(info.dst.bytes, data + 24, 16) != 0)
			abort();
	}
	return 0;
}
