#!/usr/bin/env bash
# bash tools/dist_train.sh CONFIG GPUS [tools/train.py arguments]
# GPUS processes: one per GPU with NCCL, or CPU processes with gloo where there is no GPU.
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: bash tools/dist_train.sh CONFIG GPUS [arguments of tools/train.py]" >&2; exit 2; fi
source "$(dirname "${BASH_SOURCE[0]}")/_launch.sh"
launch train.py "$1" "$2" "$((60000 + RANDOM % 1000))" "${@:3}"
