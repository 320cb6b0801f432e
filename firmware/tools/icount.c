/*
 * icount.c: picoformer's QEMU TCG plugin that counts executed guest instructions.
 *
 *   qemu-system-arm ... -plugin libicount.so[,mark=0xADDR] -d plugin [-D icount.log]
 *
 * Output (through qemu_plugin_outs, i.e. QEMU's log with `-d plugin`):
 *   "mark K: N insns since previous mark"  for every call K >= 1 of the function at ADDR
 *   "insns: TOTAL"                         at exit
 * With `profile=on` (and a mark) it also prints, at exit, one line per translated block that ran
 * between a mark and the next one (odd-numbered stretches: inside the measured calls, when the
 * firmware marks right before and right after each call):
 *   "block 0xVADDR: N insns"                the block's instructions times its executions there
 * (a block translated twice gets two lines; firmware/profile.sh adds them up per function).
 * With `probe=on` it prints "icount: plugin API min M cur C" when QEMU loads it and exits QEMU at
 * once: firmware/tools/build-icount.sh uses that to find the API version the installed QEMU takes.
 *
 * Only entry points that every plugin API version (QEMU 4.2 to 10.x) has with the same signature
 * are used: per-TB and per-instruction execution callbacks, no inline operations (their API changed
 * in QEMU 9). The plugin API header is not installed by distribution packages, so the few
 * declarations needed are written out below; PF_PLUGIN_API (the exported qemu_plugin_version) is
 * chosen at build time by build-icount.sh against the installed QEMU.
 *
 * Counting: each translated block adds its instruction count when it starts executing (a block
 * left early by an exception still counts whole; the firmware under test takes none while
 * counting). A mark is the first instruction of the marker function, whatever block holds it.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PF_PLUGIN_API
#error "build with -DPF_PLUGIN_API=<version> (firmware/tools/build-icount.sh picks it)"
#endif

/* ---- the plugin ABI subset (stable across API versions 0..4+) ---------------------------- */
typedef uint64_t plugin_id;
typedef struct {
    const char *target_name;
    struct { int min, cur; } version;
    bool system_emulation;
    /* more fields follow in every version; they are not read */
} plugin_info;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum { CB_NO_REGS = 0 };

typedef void (*tb_trans_cb)(plugin_id, struct qemu_plugin_tb *);
typedef void (*vcpu_udata_cb)(unsigned int vcpu, void *udata);
typedef void (*udata_cb)(plugin_id, void *udata);

void qemu_plugin_register_vcpu_tb_trans_cb(plugin_id, tb_trans_cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *, vcpu_udata_cb, int flags, void *);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *, vcpu_udata_cb, int flags, void *);
void qemu_plugin_register_atexit_cb(plugin_id, udata_cb, void *);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *, size_t);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *);
void qemu_plugin_outs(const char *);

__attribute__((visibility("default"))) int qemu_plugin_version = PF_PLUGIN_API;

/* ---- state (one vCPU: the boards counted here are single-core) ---------------------------- */
static uint64_t executed;        /* guest instructions executed so far */
static uint64_t at_last_mark;    /* `executed` at the previous mark */
static unsigned marks;           /* marker calls seen */
static uint64_t mark_addr;
static bool have_mark;
static bool profile;

/* profile=on: one record per translated block, kept in a singly linked list */
struct block {
    uint64_t vaddr;
    uint64_t n_insns;
    uint64_t counted; /* instructions executed inside measured stretches */
    struct block *next;
};
static struct block *blocks;


static void on_block(unsigned int vcpu, void *n_insns)
{
    (void)vcpu;
    executed += (uint64_t)(uintptr_t)n_insns;
}

static void on_profiled_block(unsigned int vcpu, void *udata)
{
    struct block *b = udata;
    (void)vcpu;
    executed += b->n_insns;
    if (marks % 2 == 1) {
        b->counted += b->n_insns;
    }
}

static void on_mark(unsigned int vcpu, void *unused)
{
    (void)vcpu;
    (void)unused;
    if (marks > 0) {
        char line[96];
        snprintf(line, sizeof line, "mark %u: %" PRIu64 " insns since previous mark\n", marks,
                 executed - at_last_mark);
        qemu_plugin_outs(line);
    }
    at_last_mark = executed;
    marks++;
}

static void on_translate(plugin_id id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    (void)id;
    if (profile && n > 0) {
        struct block *b = calloc(1, sizeof *b);
        if (b == NULL) {
            fprintf(stderr, "icount: out of memory for the profile\n");
            exit(1);
        }
        b->vaddr = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, 0));
        b->n_insns = n;
        b->next = blocks;
        blocks = b;
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_profiled_block, CB_NO_REGS, b);
    } else {
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, CB_NO_REGS, (void *)(uintptr_t)n);
    }
    if (!have_mark) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        /* Thumb addresses: compare without the interworking bit */
        if ((qemu_plugin_insn_vaddr(insn) | 1) == (mark_addr | 1)) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, CB_NO_REGS, NULL);
        }
    }
}

static void at_exit(plugin_id id, void *unused)
{
    (void)id;
    (void)unused;
    char line[96];
    for (struct block *b = blocks; b != NULL; b = b->next) {
        if (b->counted > 0) {
            snprintf(line, sizeof line, "block 0x%" PRIx64 ": %" PRIu64 " insns\n", b->vaddr, b->counted);
            qemu_plugin_outs(line);
        }
    }
    snprintf(line, sizeof line, "insns: %" PRIu64 "\n", executed);
    qemu_plugin_outs(line);
}

__attribute__((visibility("default"))) int qemu_plugin_install(plugin_id id, const plugin_info *info,
                                                               int argc, char **argv)
{
    bool probe = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "mark=", 5) == 0) {
            char *end;
            mark_addr = strtoull(arg + 5, &end, 0);
            if (*end != '\0' || end == arg + 5) {
                fprintf(stderr, "icount: mark=%s is not an address\n", arg + 5);
                return -1;
            }
            have_mark = true;
        } else if (strcmp(arg, "profile=on") == 0) {
            profile = true;
        } else if (strcmp(arg, "probe=on") == 0) {
            probe = true;
        } else {
            fprintf(stderr, "icount: unknown argument %s (takes mark=ADDR, profile=on, probe=on)\n", arg);
            return -1;
        }
    }
    if (profile && !have_mark) {
        fprintf(stderr, "icount: profile=on needs mark=ADDR (it profiles between marks)\n");
        return -1;
    }
    if (probe) {
        printf("icount: plugin API min %d cur %d\n", info->version.min, info->version.cur);
        fflush(stdout);
        exit(0);
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
