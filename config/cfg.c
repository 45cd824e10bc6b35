/* placeholder: being written */
#include <string.h>
#include "cfg.h"
void
cfg_defaults(struct sg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}
int
cfg_load(const char *path, struct sg_config *cfg, char *err, size_t errlen)
{
	(void)path; cfg_defaults(cfg); (void)err; (void)errlen;
	return -1;
}
int
cfg_load_buffer(const char *text, size_t len, const char *name, struct sg_config *cfg,
		char *err, size_t errlen)
{
	(void)text; (void)len; (void)name; cfg_defaults(cfg); (void)err; (void)errlen;
	return -1;
}
int
cfg_parse_prefix(const char *s, struct cfg_prefix *out)
{
	(void)s; (void)out;
	return -1;
}
