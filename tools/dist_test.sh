#!/usr/bin/env bash
# bash tools/dist_test.sh CONFIG GPUS [tools/test.py arguments]
# Each process evaluates a share of the images; the first prints the table and writes the eval log.
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: bash tools/dist_test.sh CONFIG GPUS [arguments of tools/test.py]" >&2; exit 2; fi
source "$(dirname "${BASH_SOURCE[0]}")/_launch.sh"
launch test.py "$1" "$2" 38423 "${@:3}"
