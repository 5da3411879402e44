/* Wine 8 (Debian 12) has no bcryptprimitives.dll, which Rust's standard library for Windows
 * imports for ProcessPrng (its random source). This stand-in gives ProcessPrng from
 * RtlGenRandom (advapi32's SystemFunction036), which Wine has, so that Rust test programs for
 * Windows run under Wine here. Test harness only: never shipped, and nothing of DPAPI. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
