/* libFuzzer target for the subnet pool parser (engine/plan.c,
 * HDC_SUBNET_POOL). Checked: no crash; a pool accepted has sizes in range,
 * no host bits set, and every subnet index stays inside it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char spec[64], err[256];
    plan_pool pool;

    if (size == 0 || size >= sizeof(spec))
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    if (plan_pool_parse(spec, &pool, err, sizeof(err)) != 0) {
        if (err[0] == '\0')
            abort(); /* a refusal always says why */
        return 0;
    }
    if (pool.prefix < 8 || pool.size < pool.prefix || pool.size > 28)
        abort();
    if ((pool.base & ~(~0u << (32 - pool.prefix))) != 0)
        abort();
    if (plan_pool_start(&pool, spec) >= plan_pool_count(&pool))
        abort();
    return 0;
}
