/* The bundled models and the demo's inputs, in flash. The blob must start on a 32-byte boundary
 * (PF_ARENA_ALIGN); the texts end with a NUL byte. Paths come from the build (-D). */
    .section .rodata.pf_data, "a"
    .balign 32
    .global sentiment_blob, sentiment_blob_end
sentiment_blob:
    .incbin SENTIMENT_BLOB
sentiment_blob_end:
    .balign 32
    .global gpt_blob, gpt_blob_end
gpt_blob:
    .incbin GPT_BLOB
gpt_blob_end:
    .global sentences_txt
sentences_txt:
    .incbin SENTENCES_TXT
    .byte 0
    .global prompts_txt
prompts_txt:
    .incbin PROMPTS_TXT
    .byte 0
