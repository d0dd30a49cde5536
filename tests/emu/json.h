/* A minimal JSON reader for test metadata: objects, arrays, strings,
 * numbers, true/false/null. Lookups on NULL return NULL/defaults. */
#ifndef HV_TESTS_EMU_JSON_H
#define HV_TESTS_EMU_JSON_H

struct json {
	int type; /* 'o' object, 'a' array, 's' string, 'n' number, 'l' literal */
	char *key;
	char *str;
	double num;
	struct json *child, *next;
};

struct json *json_load(const char *path);
void json_free(struct json *j);
const struct json *json_get(const struct json *obj, const char *key);
const char *json_str(const struct json *j, const char *def);
double json_num(const struct json *j, double def);

#endif
