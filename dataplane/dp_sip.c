/* placeholder: being written */
#include "dp_sip.h"
struct dp_sip_db *
dp_sip_db_create(char *err, size_t errlen)
{
	(void)err; (void)errlen;
	return NULL;
}
void
dp_sip_db_free(struct dp_sip_db *db)
{
	(void)db;
}
int
dp_sip_scratch_alloc(const struct dp_sip_db *db, hs_scratch_t **scratch)
{
	(void)db; (void)scratch;
	return -1;
}
enum dp_sip_res
dp_sip_parse(const struct dp_sip_db *db, hs_scratch_t *scratch, const uint8_t *buf,
	     uint32_t len, struct dp_sip_msg *m)
{
	(void)db; (void)scratch; (void)buf; (void)len; (void)m;
	return DP_SIP_NO_START_LINE;
}
const char *
dp_sip_res_name(enum dp_sip_res res)
{
	(void)res;
	return "?";
}
