#!/bin/sh
# Run one Criterion test binary so that it reports TAP on stdout (one line
# per test case, read by build-aux/tap-driver.sh); its own summary goes to
# stderr, which lands in the test's .log file.
exec "$@" --tap --jobs=2
