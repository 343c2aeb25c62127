/* fuzz_options.c — libFuzzer harness for option parsing.  Each program's
 * main() is its own executable and cannot be called in-process, so this
 * drives what they all share: getopt_long over CLI_LONG_OPTIONS and
 * cli_option (delimiter, metric, scale, missing, seed, threads, ...), and
 * the number parsers cli_parse_count / cli_parse_real with the ranges the
 * programs use.  The input is split at NUL bytes into an argv.
 *
 * cli_option exits on a bad value (exit 1, as documented) and on --help or
 * --version (exit 0).  The harness is linked with -Wl,--wrap=exit so that
 * such an exit from inside the target jumps back here instead of ending
 * the fuzzer; any other exit code is reported as a bug. */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static jmp_buf back;
static int in_target;
void __real_exit(int status) __attribute__((noreturn));
void __wrap_exit(int status)
{
    if (in_target) {
        if (status != 0 && status != PANN_EINPUT)
            abort();
        longjmp(back, 1);
    }
    __real_exit(status);
}

#define MAX_ARGS 64

static void parse(int argc, char **argv)
{
    static const struct option longs[] = {
        CLI_LONG_OPTIONS,
        { "iterations", required_argument, NULL, CLI_OPT_FIRST_PROGRAM },
        { "quantile", required_argument, NULL, CLI_OPT_FIRST_PROGRAM + 1 },
        { NULL, 0, NULL, 0 }
    };
    cli c;
    cli_init(&c, argc, argv, "fuzz", "fuzz [OPTIONS] FILE", PANN_SCALE_NONE);
    optind = 0;   /* glibc: full re-initialisation of getopt */
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_SHORT_OPTIONS "k:", longs, NULL)) != -1) {
        if (cli_option(&c, opt, optarg, "fuzz help\n"))
            continue;
        if (opt == CLI_OPT_FIRST_PROGRAM)
            (void)cli_parse_count(&c, "--iterations", optarg, 1, UINT64_MAX);
        else if (opt == CLI_OPT_FIRST_PROGRAM + 1)
            (void)cli_parse_real(&c, "--quantile", optarg, 0, 1);
        else if (opt == 'k')
            (void)cli_parse_count(&c, "-k", optarg, 1, 1000000);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "fuzz";
    for (char *p = buf; p < buf + size + 1 && argc < MAX_ARGS; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    /* --help, --version and the error lines print: keep the fuzzer's own
     * output readable (sanitizer reports write to descriptor 2 directly) */
    FILE *saved = stdout, *saved_err = stderr;
    stdout = stderr = fopen("/dev/null", "w");
    in_target = 1;
    if (setjmp(back) == 0)
        parse(argc, argv);
    in_target = 0;
    fclose(stdout);
    stdout = saved;
    stderr = saved_err;
    free(buf);
    return 0;
}
