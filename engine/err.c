/* The text and the name of every error code (engine/err.h). */
#include "err.h"

#include <string.h>
#include <uv.h>

/* libuv's uv_strerror and uv_err_name allocate (and leak) the text of a
 * code they do not know; such a code gets it written here instead, one
 * buffer per function and thread. */
static _Thread_local char unknown_text[64], unknown_name[64];

/* Whether libuv knows err: its name is not "Unknown system error N". */
static int libuv_knows(int err) {
    char name[64];

    uv_err_name_r(err, name, sizeof(name));
    return strncmp(name, "Unknown", 7) != 0;
}

const char *hdc_strerror(int err) {
    switch (err) {
    case 0: return "success";
#define HDC_ERR_TEXT(name, code, text) \
    case name: return text;
        HDC_ERRORS(HDC_ERR_TEXT)
#undef HDC_ERR_TEXT
    }
    if (libuv_knows(err))
        return uv_strerror(err);
    return uv_strerror_r(err, unknown_text, sizeof(unknown_text));
}

const char *hdc_err_name(int err) {
    switch (err) {
    case 0: return "OK";
#define HDC_ERR_NAME(name, code, text) \
    case name: return #name;
        HDC_ERRORS(HDC_ERR_NAME)
#undef HDC_ERR_NAME
    }
    if (libuv_knows(err))
        return uv_err_name(err);
    return uv_err_name_r(err, unknown_name, sizeof(unknown_name));
}
