/* libFuzzer target for a cluster's record as Docker's archive endpoint
 * gives it back (engine/cluster_record.c): a tar holding a JSON file, or
 * anything else a broken or hostile engine sends. Checked: no crash, and
 * a record taken has a known state and a terminated holder. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int rc, const cluster_record *r) {
    if (rc != 0)
        return;
    if (r->state < RECORD_CREATING || r->state > RECORD_STOPPED)
        abort();
    if (memchr(r->holder, '\0', sizeof(r->holder)) == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cluster_record r;

    check(cluster_record_untar(data, size, &r), &r);
    check(cluster_record_decode((const char *)data, size, &r), &r);
    return 0;
}
