# Shared by dist_train.sh and dist_test.sh: run SCRIPT under torchrun with GPUS processes per node.
# Multi-node: NNODES, MASTER_ADDR, MASTER_PORT (every node the same address and port). With NODE_RANK set on each
# node the rendezvous is static (node 0 hosts it); without, the nodes meet through a c10d rendezvous at
# MASTER_ADDR:MASTER_PORT (RDZV_ID names the job) and get their ranks from it.
# PYTHON picks the interpreter (default: the repository's .venv, else python3). No PYTHONPATH is needed.
launch() {
    local script=$1 config=$2 gpus=$3 default_port=$4
    shift 4
    local root
    root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
    local py=${PYTHON:-}
    if [ -z "$py" ]; then
        if [ -x "$root/.venv/bin/python" ]; then py="$root/.venv/bin/python"; else py=python3; fi
    fi
    local nnodes=${NNODES:-1} node_rank=${NODE_RANK:-0} addr=${MASTER_ADDR:-127.0.0.1}
    local port=${MASTER_PORT:-${PORT:-$default_port}}
    if [ -z "${OMP_NUM_THREADS:-}" ]; then  # share the cores between the processes (torchrun would say 1)
        local cores
        cores=$(nproc 2>/dev/null || echo 1)
        export OMP_NUM_THREADS=$(( cores / gpus > 0 ? cores / gpus : 1 ))
    fi
    local rdzv=(--master_addr="$addr" --master_port="$port" --node_rank="$node_rank")
    if [ "$nnodes" -gt 1 ] && [ -z "${NODE_RANK:-}" ]; then
        rdzv=(--rdzv_backend=c10d --rdzv_endpoint="$addr:$port" --rdzv_id="${RDZV_ID:-depthforge}")
    fi
    exec "$py" -m torch.distributed.run --nnodes="$nnodes" --nproc_per_node="$gpus" "${rdzv[@]}" \
        "$root/tools/$script" "$config" --launcher pytorch "$@"
}
