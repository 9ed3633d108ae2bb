/* The text and the name of every error code (engine/err.h). */
#include "err.h"

#include <uv.h>

const char *hdc_strerror(int err) {
    switch (err) {
    case 0: return "success";
#define HDC_ERR_TEXT(name, code, text) \
    case name: return text;
        HDC_ERRORS(HDC_ERR_TEXT)
#undef HDC_ERR_TEXT
    }
    return uv_strerror(err);
}

const char *hdc_err_name(int err) {
    switch (err) {
    case 0: return "OK";
#define HDC_ERR_NAME(name, code, text) \
    case name: return #name;
        HDC_ERRORS(HDC_ERR_NAME)
#undef HDC_ERR_NAME
    }
    return uv_err_name(err);
}
