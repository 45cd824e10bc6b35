/* placeholder: being written */
#include "dp_decode.h"
enum dp_decode_res
dp_decode(const uint8_t *frame, uint32_t len, enum dp_link link, struct dp_pkt *out)
{
	(void)frame; (void)len; (void)link; (void)out;
	return DP_DEC_NOT_IP;
}
const char *
dp_decode_res_name(enum dp_decode_res res)
{
	(void)res;
	return "?";
}
