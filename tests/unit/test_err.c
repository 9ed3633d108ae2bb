/* engine/err.c: one error space, a text and a name for every code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "err.h"

static const int codes[] = {
#define CODE(name, code, text) name,
    HDC_ERRORS(CODE)
#undef CODE
};
#define N_CODES (sizeof(codes) / sizeof(codes[0]))

static void every_code_has_its_own_text_and_name(void **state) {
    for (size_t i = 0; i < N_CODES; i++) {
        assert_true(codes[i] < 0);
        assert_null(strstr(hdc_strerror(codes[i]), "Unknown"));
        assert_null(strstr(hdc_err_name(codes[i]), "Unknown"));
        for (size_t k = 0; k < i; k++)
            assert_int_not_equal(codes[i], codes[k]);
    }
    assert_string_equal(hdc_err_name(DOCKER_ENOTFOUND), "DOCKER_ENOTFOUND");
    assert_string_equal(hdc_strerror(PLAN_EINVAL), "bad cluster name, count or subnet pool");
}

static void hdc_codes_stay_clear_of_libuv(void **state) {
    /* libuv's errnos are small negative numbers: ours start at -30000. */
    for (size_t i = 0; i < N_CODES; i++)
        assert_true(codes[i] <= -30000);
    assert_true(UV_ECANCELED > -30000 && UV_EAI_NONAME > -30000);
}

static void libuv_codes_and_success_pass_through(void **state) {
    assert_string_equal(hdc_strerror(0), "success");
    assert_string_equal(hdc_strerror(UV_ENOENT), uv_strerror(UV_ENOENT));
    assert_string_equal(hdc_err_name(UV_ECONNREFUSED), "ECONNREFUSED");
    /* A code nobody knows: named, and not leaked (LeakSanitizer). */
    assert_string_equal(hdc_strerror(-29999), "Unknown system error -29999");
    assert_string_equal(hdc_err_name(-29998), "Unknown system error -29998");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_has_its_own_text_and_name),
        cmocka_unit_test(hdc_codes_stay_clear_of_libuv),
        cmocka_unit_test(libuv_codes_and_success_pass_through),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
