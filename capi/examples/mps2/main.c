/* The C firmware on the Cortex-M4F (QEMU mps2-an386): the bundled sentiment model classifies
 * the sentences of firmware/sentences.txt, then the tiny GPT completes the prompts of
 * firmware/prompts.txt (greedy), with the options of the Rust firmware (64 tokens, chunk 2, int8
 * keys and values; context 256, chunk 4, int8). JSON lines on the semihosting console, checked
 * against the host by firmware/ci.sh. */
#include <stdio.h>
#include <string.h>

#include "../demo.h"

extern const uint8_t sentiment_blob[], sentiment_blob_end[], gpt_blob[], gpt_blob_end[];
extern const char sentences_txt[], prompts_txt[];

#define MAX_LINES 64
#define CLASSIFY_ARENA (64 * 1024)
#define GPT_ARENA (128 * 1024)

/* One arena for both: the session is done before the generator opens. */
static uint8_t arena[GPT_ARENA > CLASSIFY_ARENA ? GPT_ARENA : CLASSIFY_ARENA] __attribute__((aligned(PF_ARENA_ALIGN)));

int main(void) {
    static const char *lines[MAX_LINES];
    static size_t lens[MAX_LINES];
    const pf_session_options sopts = {64, 2, PF_KV_I8};
    const pf_generator_options gopts = {256, 4, PF_KV_I8, false, 0};
    size_t n;
    if (pf_abi_version() != PF_ABI_VERSION) {
        printf("ABI mismatch\n");
        return 2;
    }
    printf("C_FIRMWARE picoformer %s\n", pf_version());
    n = demo_lines(sentences_txt, strlen(sentences_txt), lines, lens, MAX_LINES);
    if (demo_classify(sentiment_blob, (size_t)(sentiment_blob_end - sentiment_blob), &sopts, arena,
                      CLASSIFY_ARENA, lines, lens, n) != 0) {
        return 1;
    }
    n = demo_lines(prompts_txt, strlen(prompts_txt), lines, lens, MAX_LINES);
    if (demo_generate(gpt_blob, (size_t)(gpt_blob_end - gpt_blob), &gopts, arena, GPT_ARENA, 32, lines,
                      lens, n) != 0) {
        return 1;
    }
    printf("C_FIRMWARE DONE\n");
    return 0;
}
