#!/bin/sh
# Stands in for a test this build cannot run (a tool or library was missing at configure time):
# prints why and exits 77, which CTest reports as Skipped (SKIP_RETURN_CODE), never as Passed.
echo "SKIPPED: $*"
exit 77
