/* libFuzzer target for the published-checksum parser (engine/fetch.c).
 * Checked: no crash, and a digest found is 128 lowercase hex digits. */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char out[129];

    if (fetch_parse_sha512((const char *)data, size, out) == 0) {
        if (strlen(out) != 128)
            abort();
        for (size_t i = 0; i < 128; i++)
            if (!isxdigit((unsigned char)out[i]) || isupper((unsigned char)out[i]))
                abort();
    }
    return 0;
}
