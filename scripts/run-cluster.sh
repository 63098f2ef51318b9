#!/usr/bin/env bash
# Run N gunicorn web processes, M Celery workers and exactly one celery beat of this checkout on
# one machine, against the PostgreSQL and Redis the environment configures (DATABASE_URL,
# CELERY_BROKER_URL / REDIS_URL, CACHE_URL, ...: the same settings a multi-host deployment uses).
#
#   scripts/run-cluster.sh [--webs N] [--workers M] [--port PORT] [--one-port] [--run-dir DIR]
#
#   --webs N       gunicorn processes (default 2), each `--workers $WEB_WORKERS --threads 4`
#   --workers M    Celery workers (default 2), each `--concurrency $WORKER_CONCURRENCY`
#   --port PORT    web i listens on PORT+i (default 8000) ...
#   --one-port     ... or every web on PORT (SO_REUSEPORT: the kernel spreads connections over them)
#   --run-dir DIR  where the PID file and the logs go (default var/cluster)
#
# Writes DIR/pids ("name pid" per line, e.g. "web0 1234") once everything is started; each process
# runs in a session of its own, so its PID is also its process group (kill -9 -PID takes a gunicorn
# or a prefork worker with its children). Ctrl-C (SIGINT) or SIGTERM stops them all: SIGTERM to
# each group, SIGKILL after $STOP_TIMEOUT s. A process that dies is not restarted (the others carry
# on; a supervisor such as systemd restarts processes in production).
# Only one beat is started; a second one (here or on another host) would stay idle anyway — the
# beat holds a PostgreSQL advisory lock (geopera_web/ops/beat.py).
set -euo pipefail

cd "$(dirname "$0")/.."
WEBS=2
WORKERS=2
PORT=8000
ONE_PORT=0
RUN_DIR=var/cluster
WEB_WORKERS=${WEB_WORKERS:-2}
WORKER_CONCURRENCY=${WORKER_CONCURRENCY:-2}
STOP_TIMEOUT=${STOP_TIMEOUT:-10}
VENV=${VENV:-.venv}

while [ $# -gt 0 ]; do
    case "$1" in
        --webs) WEBS=$2; shift 2 ;;
        --workers) WORKERS=$2; shift 2 ;;
        --port) PORT=$2; shift 2 ;;
        --one-port) ONE_PORT=1; shift ;;
        --run-dir) RUN_DIR=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "run-cluster: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

mkdir -p "$RUN_DIR"
PIDS_FILE="$RUN_DIR/pids"
: > "$PIDS_FILE.new"
declare -a NAMES=() PIDS=()

start() {  # start NAME CMD...: in a session of its own (PID = process group), output to NAME.log
    local name=$1
    shift
    setsid "$@" >> "$RUN_DIR/$name.log" 2>&1 < /dev/null &
    NAMES+=("$name")
    PIDS+=("$!")
    echo "$name $!" >> "$PIDS_FILE.new"
}

stop_all() {
    trap - INT TERM
    echo "run-cluster: stopping ${#PIDS[@]} processes" >&2
    for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2> /dev/null || true; done
    local deadline=$((SECONDS + STOP_TIMEOUT))
    for pid in "${PIDS[@]}"; do
        while kill -0 -- "-$pid" 2> /dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
        kill -KILL -- "-$pid" 2> /dev/null || true
    done
    wait 2> /dev/null || true
    rm -f "$PIDS_FILE"
    echo "run-cluster: stopped" >&2
    exit 0
}
trap stop_all INT TERM

for ((i = 0; i < WEBS; i++)); do
    if [ "$ONE_PORT" = 1 ]; then
        bind="--bind 127.0.0.1:$PORT --reuse-port"
    else
        bind="--bind 127.0.0.1:$((PORT + i))"
    fi
    # shellcheck disable=SC2086  # $bind is two or three words
    start "web$i" "$VENV/bin/gunicorn" geopera_web.wsgi $bind --workers "$WEB_WORKERS" --threads 4 \
        --timeout 30 --graceful-timeout 5
done
for ((i = 0; i < WORKERS; i++)); do
    start "worker$i" "$VENV/bin/celery" -A geopera_web worker --loglevel INFO \
        --concurrency "$WORKER_CONCURRENCY" --hostname "worker$i@%h" --without-gossip --without-mingle
done
start beat "$VENV/bin/celery" -A geopera_web beat --loglevel INFO -s "$RUN_DIR/celerybeat-schedule"
mv "$PIDS_FILE.new" "$PIDS_FILE"
echo "run-cluster: $WEBS web, $WORKERS worker(s), 1 beat; PIDs in $PIDS_FILE, logs in $RUN_DIR/" >&2

# Wait for Ctrl-C (a short sleep in the background, so the trap runs at once).
while true; do
    sleep 1 &
    wait $! || true
done
