/* See json.h. Recursive descent over a buffer; malformed input → NULL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct p {
	const char *s;
	int depth;
};

static void ws(struct p *p)
{
	while (*p->s == ' ' || *p->s == '\n' || *p->s == '\t' || *p->s == '\r')
		p->s++;
}

static char *str(struct p *p)
{
	const char *b;
	char *r;

	if (*p->s != '"')
		return NULL;
	b = ++p->s;
	while (*p->s && *p->s != '"') {
		if (*p->s == '\\' && p->s[1])
			p->s++;
		p->s++;
	}
	if (!*p->s)
		return NULL;
	r = strndup(b, (size_t)(p->s - b));
	p->s++;
	return r;
}

static struct json *value(struct p *p);

static struct json *list(struct p *p, char close, int keyed)
{
	struct json *j = calloc(1, sizeof(*j)), **tail = &j->child;

	j->type = keyed ? 'o' : 'a';
	p->s++;
	ws(p);
	if (*p->s == close) {
		p->s++;
		return j;
	}
	for (;;) {
		char *key = NULL;
		struct json *v;

		ws(p);
		if (keyed) {
			key = str(p);
			ws(p);
			if (!key || *p->s != ':') {
				free(key);
				goto bad;
			}
			p->s++;
		}
		v = value(p);
		if (!v) {
			free(key);
			goto bad;
		}
		v->key = key;
		*tail = v;
		tail = &v->next;
		ws(p);
		if (*p->s == ',') {
			p->s++;
			continue;
		}
		if (*p->s == close) {
			p->s++;
			return j;
		}
		goto bad;
	}
bad:
	json_free(j);
	return NULL;
}

static struct json *value(struct p *p)
{
	struct json *j;

	ws(p);
	if (++p->depth > 64)
		return NULL;
	if (*p->s == '{' || *p->s == '[') {
		j = list(p, *p->s == '{' ? '}' : ']', *p->s == '{');
	} else if (*p->s == '"') {
		j = calloc(1, sizeof(*j));
		j->type = 's';
		j->str = str(p);
		if (!j->str) {
			free(j);
			j = NULL;
		}
	} else {
		char *end;

		j = calloc(1, sizeof(*j));
		j->num = strtod(p->s, &end);
		j->type = 'n';
		if (end == p->s) {
			j->type = 'l';
			while (*p->s >= 'a' && *p->s <= 'z')
				p->s++;
			end = (char *)p->s;
		}
		if (end == p->s && j->type == 'n') {
			free(j);
			j = NULL;
		} else {
			p->s = end;
		}
	}
	p->depth--;
	return j;
}

struct json *json_load(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct json *j;
	struct p p;
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = 0;
	fclose(f);
	p.s = buf;
	p.depth = 0;
	j = value(&p);
	free(buf);
	return j;
}

void json_free(struct json *j)
{
	while (j) {
		struct json *n = j->next;

		json_free(j->child);
		free(j->key);
		free(j->str);
		free(j);
		j = n;
	}
}

const struct json *json_get(const struct json *obj, const char *key)
{
	const struct json *c;

	if (!obj || obj->type != 'o')
		return NULL;
	for (c = obj->child; c; c = c->next)
		if (c->key && !strcmp(c->key, key))
			return c;
	return NULL;
}

const char *json_str(const struct json *j, const char *def)
{
	return j && j->type == 's' ? j->str : def;
}

double json_num(const struct json *j, double def)
{
	return j && j->type == 'n' ? j->num : def;
}
