#!/usr/bin/env bash
# Installs the packages as a user would and runs them outside the repository.
#
# Packs @effect-jobs/core, /redis and /cli (building them first), installs the tarballs with
# `effect`, `ioredis` and `typescript` from the registry into a temporary project, then runs
# there: `npm ls`, a plain-JS producer and worker against a redis-server of its own (free
# port, killed by pid at the end), a `.ts` file under Node's type stripping, `tsc --noEmit`
# with the config `tsc --init` writes, and `npx effect-jobs --help`, `enqueue` and `stats`.
# With a Node older than 22.19 at hand (OLD_NODE, default /usr/bin/node), also checks that
# the CLI stops there with one line and that scripts/launch.mjs carries on with Node 24.
# Prints one line per step; on a failure, the step's output, and exits 1.
# Needs Node >= 22.19 and redis-server on PATH.
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/effect-jobs-consumer-XXXXXX")"
redis_pid=""
cleanup() {
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

log="$work/step.log"
# step NAME EXPECT CMD...: runs CMD (its output to the log); fails unless it exits 0 and its
# output matches the extended regex EXPECT (empty: any output).
step() {
  local name="$1" expect="$2"
  shift 2
  local started=$SECONDS
  if "$@" >"$log" 2>&1 && { [ -z "$expect" ] || grep -Eq "$expect" "$log"; }; then
    echo "ok   $name ($((SECONDS - started)) s)"
  else
    echo "FAIL $name: $*"
    tail -n 40 "$log"
    exit 1
  fi
}

cd "$repo" || exit 1
step "build" "" npx tsc -b packages/core packages/redis packages/cli
mkdir -p "$work/tarballs" "$work/app"
step "npm pack" "" npm pack --silent --pack-destination "$work/tarballs" -w packages/core -w packages/redis -w packages/cli

cd "$work/app" || exit 1
cp "$repo"/scripts/consumer/* .
printf '{ "name": "consumer", "private": true, "type": "module" }\n' >package.json
typescript="$(node -p 'require(process.argv[1]).version' "$repo/node_modules/typescript/package.json")"
step "npm install (tarballs + effect, ioredis, typescript from the registry)" "" \
  npm install --no-audit --no-fund --loglevel=error "$work"/tarballs/*.tgz effect ioredis "typescript@$typescript" @types/node
step "npm ls" "" npm ls --all

port="$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })')"
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no >"$work/redis.log" 2>&1 &
redis_pid=$!
node -e '
  const tryConnect = (left) => require("node:net").connect(Number(process.argv[1]), "127.0.0.1")
    .on("connect", () => process.exit(0))
    .on("error", () => (left > 0 ? setTimeout(() => tryConnect(left - 1), 100) : process.exit(1)))
  tryConnect(50)' "$port" || { echo "FAIL redis-server on port $port did not start"; cat "$work/redis.log"; exit 1; }
url="redis://127.0.0.1:$port"
prefix="consumer"

step "node enqueue.mjs" "^enqueued 3$" node enqueue.mjs "$url" "$prefix"
step "npx effect-jobs --help" "enqueue" npx effect-jobs --help
step "npx effect-jobs enqueue" "" npx effect-jobs enqueue Greet --jobs ./jobs.mjs --payload '{"name":"cli"}' --redis "$url" --prefix "$prefix"
step "npx effect-jobs stats (4 waiting)" "default +4" npx effect-jobs stats --redis "$url" --prefix "$prefix"
step "node worker.mjs (runs the 4 jobs)" "^worker ran 4$" node worker.mjs "$url" "$prefix" 4
step "node app.ts (type stripping)" "^app.ts ran 3 jobs$" node app.ts
npx tsc --init >/dev/null
step "tsc --noEmit (tsc --init config: NodeNext, strict)" "" npx tsc --noEmit
step "tsc --noEmit --skipLibCheck false (the packages' .d.ts)" "" npx tsc --noEmit --skipLibCheck false --types node

old_node="${OLD_NODE:-/usr/bin/node}"
if [ -x "$old_node" ] && ! "$old_node" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 19) ? 0 : 1)'; then
  old="$("$old_node" --version)"
  old_cli() {
    "$old_node" node_modules/.bin/effect-jobs --help 2>&1
    [ $? -eq 1 ]
  }
  step "effect-jobs on Node $old: one line, exit 1" "^effect-jobs: Node .* is too old: effect-jobs needs Node 22.19.0 or newer" old_cli
  step "scripts/launch.mjs on Node $old: runs on Node 24" "^v24\." "$old_node" "$repo/scripts/launch.mjs" node -p process.version
fi
echo "consumer test passed"
