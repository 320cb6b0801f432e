/* The C API on a host: reads a blob and a file of lines, then classifies the lines or completes
 * them as prompts (greedy), one JSON object per line on stdout.
 *
 *   pf_host classify MODEL.pfm LINES.txt [--max-seq N] [--chunk N] [--kv f32|int8|f16]
 *   pf_host generate MODEL.pfm LINES.txt [--max-tokens N] [--context N] [--chunk N] [--kv ...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

#define MAX_LINES 256

/* The whole file in a buffer on a PF_ARENA_ALIGN boundary (blobs must be 32-byte aligned). */
static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long size;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "%s: cannot read\n", path);
        if (f) fclose(f);
        return NULL;
    }
    buf = aligned_alloc(PF_ARENA_ALIGN, ((size_t)size + PF_ARENA_ALIGN) / PF_ARENA_ALIGN * PF_ARENA_ALIGN);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "%s: cannot read\n", path);
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static int kv_code(const char *s, uint32_t *kv) {
    if (strcmp(s, "f32") == 0) *kv = PF_KV_F32;
    else if (strcmp(s, "int8") == 0) *kv = PF_KV_I8;
    else if (strcmp(s, "f16") == 0) *kv = PF_KV_F16;
    else return 1;
    return 0;
}

int main(int argc, char **argv) {
    pf_session_options sopts = {0, 0, PF_KV_F32};
    pf_generator_options gopts = {0, 0, PF_KV_F32, false, 0};
    size_t max_tokens = 32, blob_len, text_len, n, need = 0;
    static const char *lines[MAX_LINES];
    static size_t lens[MAX_LINES];
    uint8_t *blob, *text, *arena;
    pf_model model;
    int generate, rc;
    if (pf_abi_version() != PF_ABI_VERSION) {
        fprintf(stderr, "library ABI %u, header ABI %u\n", (unsigned)pf_abi_version(), (unsigned)PF_ABI_VERSION);
        return 2;
    }
    if (argc < 4 || (strcmp(argv[1], "classify") != 0 && strcmp(argv[1], "generate") != 0)) {
        fprintf(stderr, "usage: %s classify|generate MODEL.pfm LINES.txt [options]\n", argv[0]);
        return 2;
    }
    generate = strcmp(argv[1], "generate") == 0;
    for (int i = 4; i < argc; i += 2) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        uint32_t kv;
        if (!val) {
            fprintf(stderr, "%s needs a value\n", opt);
            return 2;
        }
        if (strcmp(opt, "--max-seq") == 0) sopts.max_seq = strtoul(val, NULL, 10);
        else if (strcmp(opt, "--chunk") == 0) sopts.chunk = gopts.chunk = strtoul(val, NULL, 10);
        else if (strcmp(opt, "--context") == 0) gopts.context = strtoul(val, NULL, 10);
        else if (strcmp(opt, "--max-tokens") == 0) max_tokens = strtoul(val, NULL, 10);
        else if (strcmp(opt, "--kv") == 0 && kv_code(val, &kv) == 0) sopts.kv = gopts.kv = kv;
        else {
            fprintf(stderr, "unknown option %s %s\n", opt, val);
            return 2;
        }
    }
    if (!(blob = read_file(argv[2], &blob_len)) || !(text = read_file(argv[3], &text_len))) return 1;
    n = demo_lines((const char *)text, text_len, lines, lens, MAX_LINES);

    /* The arena, sized by the library for these options. */
    char why[160];
    int32_t st = pf_model_load(&model, blob, blob_len, why, sizeof why);
    if (st != PF_OK) {
        fprintf(stderr, "%s: %s\n", argv[2], why);
        return demo_fail("pf_model_load", st);
    }
    st = generate ? pf_generator_arena_len(&model, &gopts, &need) : pf_session_arena_len(&model, &sopts, &need);
    if (st != PF_OK) return demo_fail("arena size", st);
    arena = aligned_alloc(PF_ARENA_ALIGN, (need + PF_ARENA_ALIGN - 1) / PF_ARENA_ALIGN * PF_ARENA_ALIGN);
    if (!arena) {
        fprintf(stderr, "cannot allocate %lu bytes for the arena\n", (unsigned long)need);
        return 1;
    }
    rc = generate ? demo_generate(blob, blob_len, &gopts, arena, need, max_tokens, lines, lens, n)
                  : demo_classify(blob, blob_len, &sopts, arena, need, lines, lens, n);
    free(arena);
    free(text);
    free(blob);
    return rc;
}
