/*
 * Host stubs for x87/MMX/SSE instructions (see hostfp.h): generated on
 * first use into a per-vCPU executable arena, keyed by the normalized
 * instruction bytes. A full arena is simply emptied and refilled.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#include "hostfp.h"

#define ARENA_SIZE (256u << 10)
#define STUB_MAX 64
#define TAB_SIZE 8192 /* power of two, > ARENA_SIZE / STUB_MAX */
#define MEM_DISP 0x220

_Static_assert(offsetof(struct hostfp_ctx, rax) == 512, "ctx layout");
_Static_assert(offsetof(struct hostfp_ctx, flags) == 520, "ctx layout");
_Static_assert(offsetof(struct hostfp_ctx, host_mxcsr) == 528, "ctx layout");
_Static_assert(offsetof(struct hostfp_ctx, mem) == MEM_DISP, "ctx layout");

struct stub_key {
	uint8_t b[15];
	uint8_t n;
};

struct hostfp {
	uint8_t *code;
	size_t used;
	struct stub_slot {
		struct stub_key k;
		uint32_t off; /* 0: empty slot (offset 0 is never a stub's) */
	} tab[TAB_SIZE];
};

void emu_hostfp_free(struct emu_cpu *cpu)
{
	struct hostfp *h = cpu->hostfp;

	if (!h)
		return;
	munmap(h->code, ARENA_SIZE);
	munmap(h, sizeof(*h));
	cpu->hostfp = NULL;
}

static struct hostfp *hostfp_get(struct emu_cpu *cpu)
{
	struct hostfp *h = cpu->hostfp;

	if (h)
		return h;
	h = mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		return NULL;
	h->code = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h->code == MAP_FAILED) {
		munmap(h, sizeof(*h));
		return NULL;
	}
	h->used = 16;
	cpu->hostfp = h;
	return h;
}

/* The instruction's own bytes: [pfx] [REX] [0F] op modrm [disp32] [imm8] */
static void key_of(const struct hostfp_insn *hi, struct stub_key *k)
{
	uint8_t rex = hi->rex & 0xc; /* W, R */
	unsigned n = 0;

	memset(k, 0, sizeof(*k));
	if (hi->mod == 3)
		rex |= hi->rex & 1; /* B */
	if (hi->pfx)
		k->b[n++] = hi->pfx;
	if (rex)
		k->b[n++] = 0x40 | rex;
	if (hi->map0f)
		k->b[n++] = 0x0f;
	k->b[n++] = hi->op;
	if (hi->mod == 3) {
		k->b[n++] = (uint8_t)(0xc0 | (hi->reg & 7) << 3 | (hi->rm & 7));
	} else {
		/* [rdi + MEM_DISP]: the context's memory buffer */
		k->b[n++] = (uint8_t)(0x80 | (hi->reg & 7) << 3 | 7);
		k->b[n++] = MEM_DISP & 0xff;
		k->b[n++] = MEM_DISP >> 8;
		k->b[n++] = 0;
		k->b[n++] = 0;
	}
	if (hi->has_imm)
		k->b[n++] = hi->imm;
	k->n = (uint8_t)n;
}

static uint32_t hash(const struct stub_key *k)
{
	uint32_t h = 2166136261u;

	for (unsigned i = 0; i < k->n; i++)
		h = (h ^ k->b[i]) * 16777619u;
	return h;
}

static uint32_t emit_stub(struct hostfp *h, const struct stub_key *k)
{
	static const uint8_t pre[] = {
		0x48, 0x0f, 0xae, 0x0f,                   /* fxrstor64 (%rdi) */
		0x48, 0x8b, 0x87, 0x00, 0x02, 0x00, 0x00, /* mov 512(%rdi),%rax */
		0xff, 0xb7, 0x08, 0x02, 0x00, 0x00,       /* push 520(%rdi) */
		0x9d,                                     /* popfq (FCMOVcc) */
	};
	static const uint8_t post[] = {
		0x48, 0x89, 0x87, 0x00, 0x02, 0x00, 0x00, /* mov %rax,512(%rdi) */
		0x9c,                                     /* pushfq */
		0x8f, 0x87, 0x08, 0x02, 0x00, 0x00,       /* pop 520(%rdi) */
		0x48, 0x0f, 0xae, 0x07,                   /* fxsave64 (%rdi) */
		0xdb, 0xe3,                               /* fninit */
		0x0f, 0xae, 0x97, 0x10, 0x02, 0x00, 0x00, /* ldmxcsr 528(%rdi) */
		0xc3,                                     /* ret */
	};
	uint8_t *p;
	uint32_t off;

	_Static_assert(sizeof(pre) + sizeof(post) + 15 <= STUB_MAX, "stub size");
	if (h->used + STUB_MAX > ARENA_SIZE) {
		/* full: start over (stubs are cheap to make again) */
		memset(h->tab, 0, sizeof(h->tab));
		h->used = 16;
	}
	off = (uint32_t)h->used;
	p = h->code + off;
	memcpy(p, pre, sizeof(pre));
	memcpy(p + sizeof(pre), k->b, k->n);
	memcpy(p + sizeof(pre) + k->n, post, sizeof(post));
	h->used += STUB_MAX;
	return off;
}

int emu_hostfp_run(struct emu_cpu *cpu, const struct hostfp_insn *hi,
		   struct hostfp_ctx *ctx)
{
	struct hostfp *h = hostfp_get(cpu);
	struct stub_key k;
	uint32_t i, off = 0;
	void (*fn)(struct hostfp_ctx *);

	if (!h)
		return -ENOMEM;
	key_of(hi, &k);
	for (i = hash(&k);; i++) {
		struct stub_slot *e = &h->tab[i & (TAB_SIZE - 1)];

		if (!e->off)
			break;
		if (!memcmp(&e->k, &k, sizeof(k))) {
			off = e->off;
			break;
		}
	}
	if (!off) {
		off = emit_stub(h, &k);
		/* emit_stub may have emptied the table: probe again */
		for (i = hash(&k); h->tab[i & (TAB_SIZE - 1)].off; i++)
			;
		h->tab[i & (TAB_SIZE - 1)].k = k;
		h->tab[i & (TAB_SIZE - 1)].off = off;
	}
	__asm__ volatile("stmxcsr %0" : "=m"(ctx->host_mxcsr));
	fn = (void (*)(struct hostfp_ctx *))(void *)(h->code + off);
	fn(ctx);
	return 0;
}
