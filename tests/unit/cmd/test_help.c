/* engine/cmd/help.c: its parse (no topic, a command, an unknown one,
 * --man, --completion bash), the manual page and the bash completion it
 * writes from the command table: every command and environment variable in
 * the page, every command, flag and kind of argument in the completion,
 * which bash runs here without Docker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmd.h"

static const cmd_ctx ctx;

static void no_topic_or_a_command(void **state) {
    char *none[] = {"help", NULL};
    char *up[] = {"help", "up", NULL};
    cmd_help_opts o = {0};
    char err[256] = "";

    assert_int_equal(cmd_help_parse(&ctx, 1, none, &o, err, sizeof(err)), 0);
    assert_null(o.topic);
    assert_int_equal(cmd_help_parse(&ctx, 2, up, &o, err, sizeof(err)), 0);
    assert_string_equal(o.topic, "up");
}

static void an_unknown_command_is_refused(void **state) {
    char *argv[] = {"help", "nope", NULL};
    cmd_help_opts o = {0};
    char err[256] = "";

    assert_int_equal(cmd_help_parse(&ctx, 2, argv, &o, err, sizeof(err)), RUNNER_USAGE);
    assert_string_equal(err, "help: unknown command 'nope'; 'hdc help' lists them");
}

static void every_command_is_in_the_table_once(void **state) {
    size_t n = 0;

    for (const cmd *const *c = cmd_table; *c != NULL; c++, n++) {
        assert_ptr_equal(cmd_find((*c)->name), *c);
        assert_non_null((*c)->usage);
        assert_non_null((*c)->parse);
        assert_non_null((*c)->run);
    }
    assert_int_equal(n, 18);
}

static void man_and_completion_are_parsed(void **state) {
    char *man[] = {"help", "--man", NULL};
    char *bash[] = {"help", "--completion", "bash", NULL};
    cmd_help_opts o = {0};
    char err[256] = "";

    assert_int_equal(cmd_help_parse(&ctx, 2, man, &o, err, sizeof(err)), 0);
    assert_int_equal(o.output, CMD_HELP_MAN);
    assert_null(o.topic);
    memset(&o, 0, sizeof(o));
    assert_int_equal(cmd_help_parse(&ctx, 3, bash, &o, err, sizeof(err)), 0);
    assert_int_equal(o.output, CMD_HELP_BASH);
}

static void refused(int argc, char **argv, const char *want) {
    cmd_help_opts o = {0};
    char err[256] = "";

    assert_int_equal(cmd_help_parse(&ctx, argc, argv, &o, err, sizeof(err)), RUNNER_USAGE);
    assert_string_equal(err, want);
}

static void a_completion_needs_bash_and_nothing_follows(void **state) {
    char *none[] = {"help", "--completion", NULL};
    char *zsh[] = {"help", "--completion", "zsh", NULL};
    char *extra[] = {"help", "--completion", "bash", "x", NULL};
    char *man_extra[] = {"help", "--man", "up", NULL};

    refused(2, none, "help: --completion needs a shell: hdc help --completion bash");
    refused(3, zsh, "help: no completion for 'zsh': bash is the shell hdc writes one for");
    refused(4, extra, "help: unexpected argument 'x' after --completion bash");
    refused(3, man_extra, "help: unexpected argument 'up' after --man");
}

/* What write(f) writes, NUL-terminated (free it). */
static char *written(void (*write)(FILE *)) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    write(f);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* s as the page writes it: '-' as "\-". */
static void roff_escaped(const char *s, char *out, size_t len) {
    size_t n = 0;

    for (; *s != '\0' && n + 3 < len; s++) {
        if (*s == '-')
            out[n++] = '\\';
        out[n++] = *s;
    }
    out[n] = '\0';
}

static void the_page_has_every_command_and_variable(void **state) {
    char *page = written(cmd_help_man), *usage = written(cmd_usage), *env, *save = NULL;
    char want[640];

    assert_non_null(strstr(page, ".TH HDC 1 "));
    for (const cmd *const *c = cmd_table; *c != NULL; c++) {
        char line[512];

        roff_escaped((*c)->usage, line, sizeof(line));
        snprintf(want, sizeof(want), ".TP\n.B %s\n", line);
        assert_non_null(strstr(page, want));
    }
    /* Every variable `hdc help` names has its paragraph. */
    env = strstr(usage, "environment");
    assert_non_null(env);
    env = strchr(env, ':');
    assert_non_null(env);
    for (char *w = strtok_r(env + 1, " ,\n", &save); w != NULL; w = strtok_r(NULL, " ,\n", &save)) {
        char name[128];

        roff_escaped(w, name, sizeof(name));
        snprintf(want, sizeof(want), ".TP\n.B %s\n", name);
        assert_non_null(strstr(page, want));
    }
    free(usage);
    free(page);
}

static void the_completion_knows_commands_flags_and_arguments(void **state) {
    char *script = written(cmd_help_bash);
    static const char *const want[] = {
        "_hdc_commands='build-base build up ls status",
        "    --plugin-path) echo file ;;\n",
        "    --name) echo none ;;\n", /* a new cluster's name: nothing to offer */
        "    --completion) echo bash ;;\n",
        "    --client-dist) echo dist ;;\n",
        "    --hadoop-tarball) echo file ;;\n",
        "    status)\n        flags='--help --json'\n        args='cluster' ;;\n",
        "    down)\n        flags='--help --all'\n        args='cluster*' ;;\n",
        "    up)\n",
        "args='dist dist*' ;;\n",
        "args='cluster none kill|stop|pause|unpause|disconnect|reconnect' ;;\n",
        "    help)\n        flags='--help --man --completion'\n        args='command' ;;\n",
        "HDC_DOCKER_TIMEOUT=2 timeout 3",
        "complete -F _hdc hdc\n",
    };

    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (strstr(script, want[i]) == NULL)
            fail_msg("not in the completion: %s", want[i]);
    }
    assert_null(strstr(script, "--man) echo")); /* --man takes no value */
    free(script);
}

/* What the completion offers for words (the last one being completed),
 * from bash with the script sourced; no Docker is asked. */
static char *offered(const char *script_path, const char *words) {
    char line[2048], *out = NULL;
    size_t len = 0;
    FILE *p, *o = open_memstream(&out, &len);
    int c;

    snprintf(line, sizeof(line),
             "bash -c 'source %s; COMP_WORDS=(%s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
             "_hdc; echo \"${COMPREPLY[*]}\"'",
             script_path, words);
    p = popen(line, "r");
    assert_non_null(p);
    while ((c = fgetc(p)) != EOF)
        fputc(c, o);
    assert_int_equal(pclose(p), 0);
    fclose(o);
    return out;
}

static void bash_completes_commands_and_flags(void **state) {
    char path[] = "/tmp/hdc-test-help-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    char *got;

    assert_non_null(f);
    cmd_help_bash(f);
    assert_int_equal(fclose(f), 0);

    got = offered(path, "hdc st");
    assert_string_equal(got, "status stop start\n");
    free(got);
    got = offered(path, "hdc up DIST --da");
    assert_string_equal(got, "--datanodes\n");
    free(got);
    got = offered(path, "hdc fault NAME namenode p");
    assert_string_equal(got, "pause\n");
    free(got);
    got = offered(path, "hdc help --completion \"\"");
    assert_string_equal(got, "bash\n");
    free(got);
    got = offered(path, "hdc --json he");
    assert_string_equal(got, "help\n");
    free(got);
    got = offered(path, "hdc exec NAME SERVICE -- \"\"");
    assert_string_equal(got, "\n");
    free(got);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_topic_or_a_command),
        cmocka_unit_test(an_unknown_command_is_refused),
        cmocka_unit_test(every_command_is_in_the_table_once),
        cmocka_unit_test(man_and_completion_are_parsed),
        cmocka_unit_test(a_completion_needs_bash_and_nothing_follows),
        cmocka_unit_test(the_page_has_every_command_and_variable),
        cmocka_unit_test(the_completion_knows_commands_flags_and_arguments),
        cmocka_unit_test(bash_completes_commands_and_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
