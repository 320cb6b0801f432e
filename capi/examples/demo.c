/* See demo.h. Everything lives in caller-owned memory: the model handle and the session or
 * generator are locals, the arena is the caller's. */
#include "demo.h"

#include <stdio.h>
#include <string.h>

int demo_fail(const char *what, int32_t status) {
    fprintf(stderr, "%s: %s (%d)\n", what, pf_strerror(status), (int)status);
    return 1;
}

/* `s` as a JSON string: quotes, backslashes and control characters escaped, UTF-8 kept. */
static void put_json_string(const char *s, size_t len) {
    putchar('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            printf("\\%c", c);
        } else if (c == '\n') {
            printf("\\n");
        } else if (c < 0x20 || c == 0x7f) {
            printf("\\u%04x", c);
        } else {
            putchar(c);
        }
    }
    putchar('"');
}

/* Floats with 9 significant digits: enough to give back the same float32. */
static void put_floats(const float *v, size_t n) {
    putchar('[');
    for (size_t i = 0; i < n; i++) {
        printf(i ? ",%.9g" : "%.9g", (double)v[i]);
    }
    putchar(']');
}

static void put_ids(const uint32_t *ids, size_t n) {
    putchar('[');
    for (size_t i = 0; i < n; i++) {
        printf(i ? ",%lu" : "%lu", (unsigned long)ids[i]);
    }
    putchar(']');
}

static int load(pf_model *model, const uint8_t *blob, size_t blob_len) {
    char why[160];
    int32_t st = pf_model_load(model, blob, blob_len, why, sizeof why);
    if (st != PF_OK) {
        fprintf(stderr, "the model does not load: %s\n", why);
        return demo_fail("pf_model_load", st);
    }
    st = pf_model_check_finite(model, why, sizeof why);
    if (st != PF_OK) {
        fprintf(stderr, "unusable weights: %s\n", why);
        return demo_fail("pf_model_check_finite", st);
    }
    return 0;
}

int demo_classify(const uint8_t *blob, size_t blob_len, const pf_session_options *opts,
                  uint8_t *arena, size_t arena_cap, const char *const *lines,
                  const size_t *line_lens, size_t n) {
    pf_model model;
    pf_model_info info;
    pf_session session;
    size_t need;
    int32_t st;
    if (load(&model, blob, blob_len) != 0) return 1;
    if ((st = pf_model_get_info(&model, &info)) != PF_OK) return demo_fail("pf_model_get_info", st);
    if ((st = pf_session_arena_len(&model, opts, &need)) != PF_OK) return demo_fail("pf_session_arena_len", st);
    if (need > arena_cap) {
        fprintf(stderr, "the arena has %lu bytes, the session needs %lu\n", (unsigned long)arena_cap,
                (unsigned long)need);
        return 1;
    }
    if ((st = pf_session_open(&session, &model, opts, arena, need)) != PF_OK) return demo_fail("pf_session_open", st);
    for (size_t i = 0; i < n; i++) {
        float probs[16], logits[16];
        pf_classification c;
        const char *label;
        size_t label_len;
        st = pf_classify(&session, lines[i], line_lens[i], probs, logits, 16, &c);
        if (st != PF_OK) return demo_fail("pf_classify", st);
        if ((st = pf_model_label(&model, c.label, &label, &label_len)) != PF_OK) return demo_fail("pf_model_label", st);
        printf("{\"label\":");
        put_json_string(label, label_len);
        printf(",\"probs\":");
        put_floats(probs, c.n_labels);
        printf(",\"logits\":");
        put_floats(logits, c.n_labels);
        printf("}\n");
    }
    return 0;
}

static const char *stop_name(uint32_t stop) {
    switch (stop) {
    case PF_STOP_EOS: return "eos";
    case PF_STOP_TOKEN: return "stop_token";
    case PF_STOP_MAX_TOKENS: return "max_tokens";
    case PF_STOP_CONTEXT_FULL: return "context_full";
    default: return "other";
    }
}

int demo_generate(const uint8_t *blob, size_t blob_len, const pf_generator_options *opts,
                  uint8_t *arena, size_t arena_cap, size_t max_tokens,
                  const char *const *prompts, const size_t *prompt_lens, size_t n) {
    pf_model model;
    pf_generator gen;
    size_t need;
    int32_t st;
    if (load(&model, blob, blob_len) != 0) return 1;
    if ((st = pf_generator_arena_len(&model, opts, &need)) != PF_OK) return demo_fail("pf_generator_arena_len", st);
    if (need > arena_cap) {
        fprintf(stderr, "the arena has %lu bytes, the generator needs %lu\n", (unsigned long)arena_cap,
                (unsigned long)need);
        return 1;
    }
    /* NULL sampler settings: greedy */
    if ((st = pf_generator_open(&gen, &model, opts, NULL, arena, need)) != PF_OK) return demo_fail("pf_generator_open", st);
    for (size_t i = 0; i < n; i++) {
        static char text[4096];
        size_t text_len = 0, n_prompt = 0, n_ids;
        const uint32_t *ids;
        const char *tail;
        size_t tail_len;
        pf_limits limits = {max_tokens, NULL, 0};
        pf_step step;
        if ((st = pf_generator_prompt(&gen, prompts[i], prompt_lens[i], &n_prompt)) != PF_OK) {
            return demo_fail("pf_generator_prompt", st);
        }
        do {
            if ((st = pf_generator_step(&gen, &limits, &step)) != PF_OK) return demo_fail("pf_generator_step", st);
            if (text_len + step.text_len <= sizeof text) {
                memcpy(text + text_len, step.text, step.text_len);
                text_len += step.text_len;
            }
        } while (step.stop == PF_STOP_NONE);
        if ((st = pf_generator_finish(&gen, &tail, &tail_len)) != PF_OK) return demo_fail("pf_generator_finish", st);
        if (text_len + tail_len <= sizeof text) {
            memcpy(text + text_len, tail, tail_len);
            text_len += tail_len;
        }
        if ((st = pf_generator_ids(&gen, &ids, &n_ids)) != PF_OK) return demo_fail("pf_generator_ids", st);
        printf("{\"prompt_ids\":");
        put_ids(ids, n_prompt);
        printf(",\"ids\":");
        put_ids(ids + n_prompt, n_ids - n_prompt);
        printf(",\"text\":");
        put_json_string(text, text_len);
        printf(",\"stop\":\"%s\"}\n", stop_name(step.stop));
    }
    return 0;
}

size_t demo_lines(const char *text, size_t len, const char **lines, size_t *lens, size_t cap) {
    size_t n = 0, i = 0;
    while (i < len && n < cap) {
        size_t start = i, end;
        while (i < len && text[i] != '\n') i++;
        end = i++;
        while (start < end && (text[start] == ' ' || text[start] == '\t' || text[start] == '\r')) start++;
        while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\r')) end--;
        if (end > start) {
            lines[n] = text + start;
            lens[n] = end - start;
            n++;
        }
    }
    return n;
}
