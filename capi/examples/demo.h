/* The demo shared by the host program (host.c) and the Cortex-M firmware (mps2/main.c): classify
 * lines of text with an encoder blob, or complete prompts with a decoder blob, printing one JSON
 * object per line in the format of `picoformer classify --json` and `generate --json`. */
#ifndef PF_DEMO_H
#define PF_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include "picoformer.h"

/* A status other than PF_OK: prints what failed and the code's meaning to stderr. */
int demo_fail(const char *what, int32_t status);

/* Classifies each of the `n` lines (pointers and lengths) with the encoder blob. */
int demo_classify(const uint8_t *blob, size_t blob_len, const pf_session_options *opts,
                  uint8_t *arena, size_t arena_cap, const char *const *lines,
                  const size_t *line_lens, size_t n);

/* Greedy completion of each prompt, up to `max_tokens` new tokens each. */
int demo_generate(const uint8_t *blob, size_t blob_len, const pf_generator_options *opts,
                  uint8_t *arena, size_t arena_cap, size_t max_tokens,
                  const char *const *prompts, const size_t *prompt_lens, size_t n);

/* Splits `text` of `len` bytes into non-empty lines (spaces at both ends dropped), at most
 * `cap` of them; returns how many. */
size_t demo_lines(const char *text, size_t len, const char **lines, size_t *lens, size_t cap);

#endif
