#!/usr/bin/env bash
# Fuzzes the live API with Schemathesis against its own OpenAPI document: every operation, every
# check (--checks all), as a tenant and (admin routes) with the admin key; the provider webhooks
# signed with the secrets the API is started with (scripts/fuzz/hooks.py). Exits non-zero on any
# failure: a 5xx, or a response (or acceptance) the document does not allow.
#
# Starts its own Linkflow (`npm start`: Temporal dev server, sandboxes, store, worker, API) on its
# own ports and a throwaway data dir, and stops it on exit. Run by hand: scripts/fuzz-api.sh
# One worker: with two, hypothesis (4.32.5) sometimes fails inside itself ("AST constructor recursion
# depth mismatch"), a runtime error of the tool, not a finding.
# Environment: LINKFLOW_CACHE_DIR (the venv lives there), FUZZ_MAX_EXAMPLES (default 15),
# FUZZ_PORT_BASE (default 3900: API; +1 Temporal, +2 its UI, +10.. sandboxes), FUZZ_SEED (default
# 8735, so a CI run is repeatable; FUZZ_SEED=random draws one, printed at the end, to explore).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
cache="${LINKFLOW_CACHE_DIR:-$HOME/.cache/linkflow}"
venv="$cache/schemathesis"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "python3-venv is missing: apt-get install python3-venv" >&2; exit 1; }
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

base="${FUZZ_PORT_BASE:-3900}"
data=$(mktemp -d)
log="$data/linkflow.log"
random() { head -c 24 /dev/urandom | base64 | tr '+/' '-_'; }
export PORT=$base TEMPORAL_PORT=$((base + 1)) TEMPORAL_UI_PORT=$((base + 2)) SANDBOX_PORT=$((base + 10)) HOST=127.0.0.1
export LINKFLOW_DATA_DIR="$data/data" PUBLIC_URL="http://127.0.0.1:$base"
export LINKFLOW_ADMIN_KEY="fuzz-admin-$(random)"
export OXLIN_WEBHOOK_SECRET="$(random)" FLINKS_WEBHOOK_SECRET="$(random)" LNKFI_WEBHOOK_SECRET="$(random)"
# Every request of a run comes from one tenant: no rate limit in the way.
export LINKFLOW_RATE_LIMIT_PER_MINUTE=1000000

pid=""
stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -INT -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -rf "$data"
}
trap stop EXIT
trap 'exit 130' INT TERM

# Its own process group, so stopping it stops the Temporal dev server it started too.
setsid npm start >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 180); do
  grep -qF 'Ctrl-C stops everything' "$log" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "Linkflow did not start" >&2; exit 1; }
  sleep 1
done
grep -qF 'Ctrl-C stops everything' "$log" || { cat "$log" >&2; echo "Linkflow was not ready within 180 s" >&2; exit 1; }
api_key=$(cat "$LINKFLOW_DATA_DIR/api-key")

seed="${FUZZ_SEED:-8735}"
[ "$seed" = random ] && seed=$RANDOM
set +e
SCHEMATHESIS_HOOKS=hooks PYTHONPATH=scripts/fuzz timeout 600 "$venv/bin/schemathesis" \
  --config-file scripts/fuzz/schemathesis.toml --no-color \
  run "http://127.0.0.1:$base/openapi.json" \
  --checks all \
  -H "Authorization: Bearer $api_key" \
  --max-examples "${FUZZ_MAX_EXAMPLES:-15}" \
  --workers 1 \
  --seed "$seed"
status=$?
set -e
if [ "$status" != 0 ]; then
  echo "--- Linkflow's log (last 60 lines) ---" >&2
  tail -60 "$log" >&2
fi
exit "$status"
