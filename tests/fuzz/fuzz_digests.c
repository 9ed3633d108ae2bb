/* libFuzzer target for the digest cache's lookup and compaction
 * (engine/images.c, images_digest_lookup, images_digests_compact) and the
 * build record's lookup (images_record_lookup): the files are whatever a
 * crashed or older hdc, or a user, left in <cache>/identity-digests and
 * <cache>/built/. The input's first 16 bytes are the size and mtime looked
 * for, the rest the file.
 * Checked: no crash, a digest found is 64 lowercase hex digits, and a
 * compaction is never longer than what it compacts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "images.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    long long want[2] = {0, 0};
    char sha[65], *text;
    int stand_in = -1;

    if (size < sizeof(want))
        return 0;
    memcpy(want, data, sizeof(want));
    if ((text = malloc(size - sizeof(want) + 1)) == NULL)
        return 0;
    memcpy(text, data + sizeof(want), size - sizeof(want));
    text[size - sizeof(want)] = '\0';
    if (images_digest_lookup(text, "/c/hadoop-2.6.0.tar.gz", want[0], want[1], sha, &stand_in)) {
        if (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64 ||
            (stand_in != 0 && stand_in != 1))
            abort();
    }
    {
        char *kept = images_digests_compact(text, NULL);
        if (kept != NULL && strlen(kept) > strlen(text) + 1)
            abort();
        free(kept);
    }
    {
        images_record_entry e;
        if (images_record_lookup(text, "hadoop", "hadoop-2.6.0.tar.gz", &e) &&
            (strlen(e.sha256) != 64 || strspn(e.sha256, "0123456789abcdef") != 64 ||
             (e.stand_in != 0 && e.stand_in != 1) || e.path[0] == '\0'))
            abort();
    }
    free(text);
    return 0;
}
