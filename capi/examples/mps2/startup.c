/* Reset for QEMU mps2-an386: the vector table, .data and .bss, the FPU, then main() and the
 * semihosting exit (newlib's rdimon). */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t _stack_top, _data_load, _data_start, _data_end, _bss_start, _bss_end;
extern int main(void);
extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);

void reset_handler(void);
/* newlib's __libc_init_array and __libc_fini_array call these (crti/crtn are not linked) */
void _init(void) {}
void _fini(void) {}
static void fault_handler(void) { abort(); }

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &_stack_top, reset_handler, fault_handler, fault_handler, fault_handler, fault_handler, fault_handler,
};

void reset_handler(void) {
    uint32_t *src = &_data_load, *dst = &_data_start;
    while (dst < &_data_end) *dst++ = *src++;
    for (dst = &_bss_start; dst < &_bss_end;) *dst++ = 0;
    /* CPACR: full access to CP10 and CP11 (the FPU) before any float instruction */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm volatile("dsb\n isb");
    initialise_monitor_handles();
    __libc_init_array();
    exit(main());
}
