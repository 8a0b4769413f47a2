/* Test fixture for Wine 8 only, never shipped: Rust's std (>= 1.78) imports ProcessPrng from
 * bcryptprimitives.dll, which Windows 10+ has and Wine 8 lacks. This stand-in gives the same bytes the
 * system's RtlGenRandom (advapi32!SystemFunction036) gives. scripts/ci/windows-wine-test.sh builds it
 * with mingw into the test prefix's system32. */
#include <windows.h>
#define SystemFunction036 NTAPI SystemFunction036
#include <ntsecapi.h>
#undef SystemFunction036

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len) {
        ULONG n = len > 0x7fffffff ? 0x7fffffff : (ULONG)len;
        if (!RtlGenRandom(data, n)) return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
