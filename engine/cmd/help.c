/* `hdc help [COMMAND]`: hdc's usage, or a command's; `hdc help --man`: the
 * manual page hdc(1); `hdc help --completion bash`: the bash completion.
 *
 * Decisions a newcomer might question:
 * - The page and the completion are written from the command table, the
 *   same usage lines and summaries `hdc help` prints, at build time
 *   (CMakeLists.txt runs the built hdc): a command or flag added to the
 *   table is in both without another edit.
 * - A command's flags and arguments are read from its usage line (and its
 *   summary's "--flag VALUE" mentions): an upper-case word is a value
 *   (NAME: a cluster, DIST: a distribution, DIR/FILE/ROOT: a path), a|b|c
 *   are literal words. The completion asks hdc itself for the clusters
 *   (`hdc ls --json`) and distributions (`hdc plugins --json`), with a
 *   short deadline, so a Tab never hangs on an engine that does not answer.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "util.h"

/* What `hdc help --man` says of the environment; the names are those
 * cmd_usage lists (tests/unit/cmd/test_help.c checks that none is left out). */
static const struct {
    const char *name, *meaning;
} env_vars[] = {
    {"DOCKER_HOST", "the Docker engine: unix://PATH or tcp://HOST:PORT (default "
                    "unix:///var/run/docker.sock)"},
    {"HDC_DOCKER_TIMEOUT", "seconds a Docker call may take to answer (default 30)"},
    {"HDC_DOCKER_PACE",
     "at most this many container creates and starts in flight (default: no cap)"},
    {"HDC_PLUGIN_PATH", "':'-separated plugin directories, searched after --plugin-path"},
    {"HDC_DIST_CACHE", "the artifact cache of hdc build (default ~/.cache/hdc/dist)"},
    {"HDC_SUBNET_POOL", "the clusters' subnets, BASE/PREFIX[:SIZE] (default 172.29.0.0/16:24)"},
    {"HDC_LOGS_DIR", "the logs root (default logs, in the current directory)"},
    {"HDC_LOGS_KEEP", "how many moved copies of a cluster's old logs to keep (default 5)"},
    {"HDC_STATE_DIR", "the clients' key pairs' root (default .hdc, in the current directory)"},
    {"HDC_TEST_USER", "the test user (default hdc)"},
    {"HDC_BOOT_TIMEOUT", "how long a new cluster's agents wait for boot (default 600s)"},
    {"HDC_CLUSTERS_DIR", "the image build contexts (default the clusters directory of "
                         "HDC_SHARE_DIR)"},
    {"HDC_SHARE_DIR", "hdc's data: build contexts (clusters/) and client_side_tests/ (default "
                      "PREFIX/share/hdc beside an installed hdc, else the source tree)"},
    {"NO_COLOR", "set: no colour in the live table of hdc up"},
};

int cmd_help_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_help_opts *o, char *err,
                   size_t err_len) {
    if (argc < 2)
        return 0;
    if (strcmp(argv[1], "--man") == 0) {
        if (argc > 2)
            return util_fail(err, err_len, RUNNER_USAGE,
                             "help: unexpected argument '%s' after --man", argv[2]);
        o->output = CMD_HELP_MAN;
        return 0;
    }
    if (strcmp(argv[1], "--completion") == 0) {
        if (argc < 3)
            return util_fail(err, err_len, RUNNER_USAGE,
                             "help: --completion needs a shell: hdc help --completion bash");
        if (strcmp(argv[2], "bash") != 0)
            return util_fail(err, err_len, RUNNER_USAGE,
                             "help: no completion for '%s': bash is the shell hdc writes one for",
                             argv[2]);
        if (argc > 3)
            return util_fail(err, err_len, RUNNER_USAGE,
                             "help: unexpected argument '%s' after --completion bash", argv[3]);
        o->output = CMD_HELP_BASH;
        return 0;
    }
    if (cmd_find(argv[1]) == NULL)
        return util_fail(err, err_len, RUNNER_USAGE,
                         "help: unknown command '%s'; 'hdc help' lists them", argv[1]);
    o->topic = argv[1];
    return 0;
}

/* ---- the manual page ---------------------------------------------------------------- */

/* s as roff text: '-' and '\' escaped, a leading '.' or '\'' made literal. */
static void roff(FILE *f, const char *s) {
    if (*s == '.' || *s == '\'')
        fputs("\\&", f);
    for (; *s != '\0'; s++) {
        if (*s == '-')
            fputs("\\-", f);
        else if (*s == '\\')
            fputs("\\e", f);
        else
            fputc(*s, f);
    }
}

void cmd_help_man(FILE *f) {
    fprintf(f, ".\\\" hdc(1), written by `hdc help --man` from hdc's command table.\n"
               ".TH HDC 1 \"\" \"hdc " HDC_VERSION "\" \"User Commands\"\n"
               ".SH NAME\nhdc \\- real Hadoop test clusters in Docker\n"
               ".SH SYNOPSIS\n.B hdc\n[\\-\\-plugin\\-path\n.IR DIRS ]\n[\\-\\-json]\n"
               ".I COMMAND\n.RI [ ARGS ]\n"
               ".br\n.B hdc\n\\-\\-version | \\-\\-help\n"
               ".SH DESCRIPTION\n"
               "hdc builds Docker images for Hadoop distributions and brings up multi-node "
               "test clusters (ZooKeeper, the distribution's services, a client node), many at "
               "once on one host. A distribution is a plugin (a shared object; see "
               "PLUGINS). Every command's flags and exit codes are in docs/cli.md of hdc's "
               "sources.\n"
               ".SH OPTIONS\n"
               ".TP\n.BI \\-\\-plugin\\-path \" DIRS\"\n"
               "\\(aq:\\(aq-separated directories searched for plugins first, before "
               "HDC_PLUGIN_PATH. Before or after the command name.\n"
               ".TP\n.B \\-\\-json\nmachine-readable output, for the commands that print "
               "state.\n"
               ".TP\n.BR \\-h \", \" \\-\\-help\nthis usage; after a command, that command's.\n"
               ".TP\n.B \\-\\-version\nhdc's version and plugin ABI version.\n"
               ".SH COMMANDS\n");
    for (const cmd *const *c = cmd_table; *c != NULL; c++) {
        fputs(".TP\n.B ", f);
        roff(f, (*c)->usage);
        fputc('\n', f);
        roff(f, (*c)->summary);
        fputs(".\n", f);
    }
    fputs(".SH ENVIRONMENT\n", f);
    for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++) {
        fprintf(f, ".TP\n.B %s\n", env_vars[i].name);
        roff(f, env_vars[i].meaning);
        fputs(".\n", f);
    }
    fputs(".SH FILES\n"
          ".TP\n.I logs/CLUSTER/\n"
          "each node's log, in the current directory (HDC_LOGS_DIR).\n"
          ".TP\n.I .hdc/CLUSTER/\n"
          "the client node's key pair, in the current directory (HDC_STATE_DIR).\n"
          ".TP\n.I PREFIX/share/hdc/\n"
          "the image build contexts (clusters/) and client_side_tests/.\n"
          ".TP\n.I PREFIX/lib/hdc/plugins/\n"
          "the installed distribution plugins.\n"
          ".TP\n.I PREFIX/libexec/hdc/hdc\\-agent\n"
          "the agent copied into the base image.\n"
          ".SH PLUGINS\n"
          "A distribution plugin includes only <hdc/plugin.h> (pkg-config --cflags hdc-plugin) "
          "and is loaded from --plugin-path, HDC_PLUGIN_PATH, then the installed plugin "
          "directory (pkg-config --variable=plugindir hdc-plugin). hdc plugins lists them.\n"
          ".SH EXIT STATUS\n"
          ".TP\n.B 0\nthe work was done.\n"
          ".TP\n.B 1\nthe work failed: Docker failed, a service did not come up, a command "
          "failed.\n"
          ".TP\n.B 2\nbad usage or input: nothing was created or changed.\n"
          ".SH SEE ALSO\n"
          "hdc's docs/cli.md (the command contract), docs/plugins.md (writing a "
          "distribution).\n",
          f);
}

/* ---- the bash completion ------------------------------------------------------------ */

/* A usage word's kind of value: "cluster", "dist", "command", "file", or
 * NULL (free text). Literal alternatives (kill|stop) are written as words. */
static const char *value_kind(const char *w, size_t n) {
    static const struct {
        const char *word, *kind;
    } kinds[] = {{"NAME", "cluster"}, {"DIST", "dist"}, {"COMMAND", "command"},
                 {"DIR", "file"},     {"FILE", "file"}, {"ROOT", "file"}};

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strlen(kinds[i].word) == n && strncmp(kinds[i].word, w, n) == 0)
            return kinds[i].kind;
    return NULL;
}

/* NAME, NODE|SERVICE: upper case, at least one letter (not a bare '|'). */
static int is_value_word(const char *w, size_t n) {
    int letter = 0;

    for (size_t i = 0; i < n; i++) {
        if (isupper((unsigned char)w[i]))
            letter = 1;
        else if (w[i] != '_' && w[i] != '|')
            return 0;
    }
    return letter;
}

static int is_literal_words(const char *w, size_t n) {
    int bar = 0;

    for (size_t i = 0; i < n; i++) {
        if (w[i] == '|')
            bar = 1;
        else if (!islower((unsigned char)w[i]))
            return 0;
    }
    return bar;
}

/* The words of a usage line or summary, without brackets and trailing
 * commas; *more is set when a word ends with "...". */
typedef struct word {
    const char *s;
    size_t n;
    int more, closed; /* "...", and a ']' right after it */
} word;

static size_t split(const char *text, word *out, size_t max) {
    size_t n = 0;

    while (*text != '\0' && n < max) {
        const char *start, *end;
        word w = {0};

        text += strspn(text, " ");
        start = text;
        text += strcspn(text, " ");
        end = text;
        while (start < end && *start == '[')
            start++;
        while (end > start && strchr("],.`();", end[-1]) != NULL) {
            if (end[-1] == ']')
                w.closed = 1;
            if (end - start >= 3 && strncmp(end - 3, "...", 3) == 0) {
                w.more = 1;
                end -= 3;
                continue;
            }
            end--;
        }
        if (end - start >= 3 && strncmp(end - 3, "...", 3) == 0) {
            w.more = 1;
            end -= 3;
        }
        w.s = start;
        w.n = (size_t)(end - start);
        if (w.n > 0)
            out[n++] = w;
    }
    return n;
}

static int is_flag(const word *w) {
    return w->n >= 2 && w->s[0] == '-' && !(w->n == 2 && w->s[1] == '-') &&
           (isalpha((unsigned char)w->s[1]) || w->s[1] == '-');
}

/* Whether flag word i of ws takes the next word as its value. */
static int takes_value(const word *ws, size_t n, size_t i) {
    return !ws[i].closed && i + 1 < n && !is_flag(&ws[i + 1]) &&
           is_value_word(ws[i + 1].s, ws[i + 1].n);
}

/* Whether w is among the n words of seen; if not, it is added (up to max). */
static int seen_before(const word *w, word *seen, size_t *n, size_t max) {
    for (size_t i = 0; i < *n; i++)
        if (seen[i].n == w->n && strncmp(seen[i].s, w->s, w->n) == 0)
            return 1;
    if (*n < max)
        seen[(*n)++] = *w;
    return 0;
}

/* `_hdc_flag_value FLAG`: the kind of the flag's value, "none" for a
 * flag that takes free text; nothing for one that takes none. */
static void bash_flag_values(FILE *f) {
    word ws[64], seen[128];
    size_t n_seen = 0;

    /* --name names a new cluster (up): nothing to offer. --completion's
     * value is a literal word, which usage lines do not mark as a value. */
    fputs("_hdc_flag_value() {\n    case $1 in\n    --plugin-path) echo file ;;\n"
          "    --name) echo none ;;\n    --completion) echo bash ;;\n",
          f);
    seen_before(&(word){"--name", 6, 0, 0}, seen, &n_seen, 128);
    seen_before(&(word){"--completion", 12, 0, 0}, seen, &n_seen, 128);
    for (const cmd *const *c = cmd_table; *c != NULL; c++) {
        for (int pass = 0; pass < 2; pass++) {
            size_t n = split(pass == 0 ? (*c)->usage : (*c)->summary, ws, 64);

            for (size_t i = 0; i < n; i++) {
                const char *kind;

                if (!is_flag(&ws[i]) || !takes_value(ws, n, i) ||
                    seen_before(&ws[i], seen, &n_seen, 128))
                    continue;
                kind = value_kind(ws[i + 1].s, ws[i + 1].n);
                fprintf(f, "    %.*s) echo %s ;;\n", (int)ws[i].n, ws[i].s,
                        kind != NULL ? kind : "none");
            }
        }
    }
    fputs("    esac\n}\n\n", f);
}

/* A command's flags, from its usage line and its summary, once each. */
static void bash_flags(FILE *f, const cmd *c) {
    word ws[64], seen[64];
    size_t n_seen = 0;

    fputs("        flags='--help", f);
    for (int pass = 0; pass < 2; pass++) {
        size_t n = split(pass == 0 ? c->usage : c->summary, ws, 64);

        for (size_t i = 0; i < n; i++)
            if (is_flag(&ws[i]) && !seen_before(&ws[i], seen, &n_seen, 64))
                fprintf(f, " %.*s", (int)ws[i].n, ws[i].s);
    }
    fputs("'\n", f);
}

/* A command's arguments, the kind of each in order (value_kind, "none",
 * or literal words a|b), the last marked '*' when it repeats; up to a
 * '|' (another form) or '--' (a command line of its own). */
static void bash_args(FILE *f, const cmd *c) {
    word ws[64];
    size_t n = split(c->usage, ws, 64), i = 0;
    const char *sep = "";
    int more = 0;

    while (i < n && !(ws[i].n == strlen(c->name) && strncmp(ws[i].s, c->name, ws[i].n) == 0))
        i++;
    fputs("        args='", f);
    for (i++; i < n; i++) {
        const char *kind = value_kind(ws[i].s, ws[i].n);

        if ((ws[i].n == 1 && ws[i].s[0] == '|') || (ws[i].n == 2 && ws[i].s[0] == '-'))
            break;
        more |= ws[i].more;
        if (is_flag(&ws[i])) {
            if (takes_value(ws, n, i))
                more |= ws[++i].more;
            continue;
        }
        if (is_literal_words(ws[i].s, ws[i].n))
            fprintf(f, "%s%.*s", sep, (int)ws[i].n, ws[i].s);
        else if (kind != NULL || is_value_word(ws[i].s, ws[i].n))
            fprintf(f, "%s%s", sep, kind != NULL ? kind : "none");
        else
            continue;
        sep = " ";
    }
    fprintf(f, "%s' ;;\n", more ? "*" : "");
}

/* `_hdc_command CMD`: sets flags and args for CMD. */
static void bash_commands(FILE *f) {
    fputs("_hdc_command() {\n    case $1 in\n", f);
    for (const cmd *const *c = cmd_table; *c != NULL; c++) {
        fprintf(f, "    %s)\n", (*c)->name);
        bash_flags(f, *c);
        bash_args(f, *c);
    }
    fputs("    esac\n}\n\n", f);
}

void cmd_help_bash(FILE *f) {
    fputs("# bash completion for hdc, written by `hdc help --completion bash` from\n"
          "# hdc's command table. Clusters and distributions are asked of the hdc\n"
          "# being completed, with a short deadline.\n"
          "# shellcheck shell=bash\n\n",
          f);
    fputs("_hdc_commands='", f);
    for (const cmd *const *c = cmd_table; *c != NULL; c++)
        fprintf(f, "%s%s", c == cmd_table ? "" : " ", (*c)->name);
    fputs("'\n\n", f);
    bash_flag_values(f);
    bash_commands(f);
    fputs(
        "# The names in an hdc --json array (\"name\": \"...\"), asked of the hdc being\n"
        "# completed with a short deadline: a Tab never hangs on an engine that does\n"
        "# not answer.\n"
        "_hdc_names() {\n"
        "    HDC_DOCKER_TIMEOUT=2 timeout 3 \"$@\" 2>/dev/null |\n"
        "        grep -o '\"name\": *\"[^\"]*\"' | sed 's/.*: *\"\\(.*\\)\"/\\1/'\n"
        "}\n"
        "\n"
        "# Completes cur as a value of kind $1 (cluster, dist, command, file,\n"
        "# a|b|c words, none).\n"
        "_hdc_values() {\n"
        "    local words\n"
        "    case $1 in\n"
        "    cluster) words=$(_hdc_names \"$_hdc_bin\" ls --json) ;;\n"
        "    dist) words=$(_hdc_names \"$_hdc_bin\" \"${_hdc_global[@]}\" plugins --json) ;;\n"
        "    command) words=$_hdc_commands ;;\n"
        "    file) mapfile -t COMPREPLY < <(compgen -f -- \"$cur\"); return ;;\n"
        "    none | '') return ;;\n"
        "    *) words=${1//|/ } ;;\n"
        "    esac\n"
        "    mapfile -t COMPREPLY < <(compgen -W \"$words\" -- \"$cur\")\n"
        "}\n"
        "\n"
        "_hdc() {\n"
        "    local cur=${COMP_WORDS[COMP_CWORD]} prev='' _hdc_bin=${COMP_WORDS[0]}\n"
        "    local cmd='' i w kind flags args n=0 _hdc_global=()\n"
        "    COMPREPLY=()\n"
        "    # A command typed as ~/bin/hdc: the tilde is not expanded in COMP_WORDS.\n"
        "    # shellcheck disable=SC2088\n"
        "    [[ $_hdc_bin == '~/'* ]] && _hdc_bin=$HOME/${_hdc_bin#'~/'}\n"
        "    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
        "    # The command, how many arguments stand before cur, and a --plugin-path\n"
        "    # (the distributions are those it adds too).\n"
        "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
        "        w=${COMP_WORDS[i]}\n"
        "        if [[ $w == -- ]]; then\n"
        "            [[ -n $cmd ]] && return\n"
        "        elif [[ $w == --plugin-path ]] && ((i + 1 < COMP_CWORD)); then\n"
        "            _hdc_global=(--plugin-path \"${COMP_WORDS[i + 1]}\")\n"
        "            ((i++))\n"
        "        elif [[ $w == -* ]]; then\n"
        "            [[ -n $(_hdc_flag_value \"$w\") ]] && ((i++))\n"
        "        elif [[ -z $cmd ]]; then\n"
        "            cmd=$w\n"
        "        else\n"
        "            ((n++))\n"
        "        fi\n"
        "    done\n"
        "    kind=$(_hdc_flag_value \"$prev\")\n"
        "    if [[ -n $kind ]]; then\n"
        "        _hdc_values \"$kind\"\n"
        "        return\n"
        "    fi\n"
        "    if [[ -z $cmd ]]; then\n"
        "        if [[ $cur == -* ]]; then\n"
        "            mapfile -t COMPREPLY < <(compgen -W '--plugin-path --json --help --version' "
        "-- \"$cur\")\n"
        "        else\n"
        "            mapfile -t COMPREPLY < <(compgen -W \"$_hdc_commands\" -- \"$cur\")\n"
        "        fi\n"
        "        return\n"
        "    fi\n"
        "    _hdc_command \"$cmd\"\n"
        "    if [[ $cur == -* ]]; then\n"
        "        mapfile -t COMPREPLY < <(compgen -W \"$flags --json --plugin-path\" -- \"$cur\")\n"
        "        return\n"
        "    fi\n"
        "    read -ra args <<<\"$args\"\n"
        "    if ((n < ${#args[@]})); then\n"
        "        kind=${args[n]}\n"
        "    elif ((${#args[@]} > 0)) && [[ ${args[-1]} == *\\* ]]; then\n"
        "        kind=${args[-1]}\n"
        "    fi\n"
        "    _hdc_values \"${kind%\\*}\"\n"
        "}\n"
        "\n"
        "complete -F _hdc hdc\n",
        f);
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_help_parse(ctx, argc, argv, opts, err, err_len);
}

static int run(const cmd_ctx *ctx, void *opts) {
    cmd_help_opts *o = opts;
    const cmd *c = o->topic != NULL ? cmd_find(o->topic) : NULL;

    if (o->output == CMD_HELP_MAN)
        cmd_help_man(stdout);
    else if (o->output == CMD_HELP_BASH)
        cmd_help_bash(stdout);
    else if (c == NULL)
        cmd_usage(stdout);
    else
        printf("usage: %s\n%s\n", c->usage, c->summary);
    return fflush(stdout) == 0 ? RUNNER_OK : RUNNER_FAILED;
}

const cmd cmd_help = {
    .name = "help",
    .usage = "hdc help [COMMAND | --man | --completion bash]",
    .summary = "this text, or a command's usage; the manual page hdc(1), or the bash completion",
    .opts_size = sizeof(cmd_help_opts),
    .parse = parse,
    .run = run,
};
