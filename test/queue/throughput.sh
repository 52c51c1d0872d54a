#!/usr/bin/env bash
# Throughput of distributed sweeps on this machine (docs/distributed.md, "Scale"): short cells through the
# queue with 1, 2 and 4 `tms worker` processes, against a throw-away redis-server on 127.0.0.1.
#   test/queue/throughput.sh [steps=10] [seeds=0-3]      (needs `npm run build` and redis-server)
# Prints, per worker count: cells, wall seconds, cells/s, mean compute per cell (train + eval, from the
# results), queue overhead per cell, Redis commands per cell, and the result size on the wire.
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-10}
seeds=${2:-0-3}
tms="node bin/tms.js"
tmp=$(mktemp -d)
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" --daemonize no >"$tmp/redis.log" 2>&1 &
redis_pid=$!
workers=()
cleanup() {
  for p in "${workers[@]}"; do kill "$p" 2>/dev/null || true; done
  kill "$redis_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
url="redis://127.0.0.1:$port"
study=(--presets intro --activations all --seeds "$seeds" --steps "$steps")
commands() { redis-cli -p "$port" info stats | sed -n 's/^total_commands_processed:\([0-9]*\).*/\1/p'; }
# Redis CPU seconds (user + sys) so far.
redis_cpu() { redis-cli -p "$port" info cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { printf "%.3f", s }'; }

# Baseline: the same study as a local sweep (worker threads, no queue).
for n in 1 2; do
  t0=$(date +%s.%N)
  $tms sweep "${study[@]}" --workers "$n" --out "$tmp/local-$n" >/dev/null 2>&1
  t1=$(date +%s.%N)
  cells=$(find "$tmp/local-$n" -name result.json | wc -l)
  echo "local sweep, $n threads: $cells cells in $(echo "$t1 - $t0" | bc | cut -c1-5) s"
done
printf "%-8s %6s %8s %8s %12s %14s %12s %12s %10s\n" workers cells wall_s cells/s compute_ms overhead_ms redis_cmd/cell redis_cpu_ms KiB/cell
for n in 1 2 4; do
  workers=()
  for ((k = 0; k < n; k++)); do
    $tms worker --queue "$url" >"$tmp/w$k.log" 2>&1 &
    workers+=($!)
  done
  until [ "$($tms queue status --queue "$url" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).workers.length))')" = "$n" ]; do sleep 0.2; done
  out="$tmp/store-$n"
  c0=$(commands)
  u0=$(redis_cpu)
  t0=$(date +%s.%N)
  $tms sweep "${study[@]}" --queue "$url" --out "$out" >"$tmp/c$n.log" 2>&1
  t1=$(date +%s.%N)
  c1=$(commands)
  u1=$(redis_cpu)
  node -e '
    const fs = require("fs"), path = require("path");
    const [out, n, wall, cmds, cpu] = process.argv.slice(1).map((v, k) => (k ? +v : v));
    const files = [];
    const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) =>
      e.isDirectory() ? walk(path.join(d, e.name)) : e.name === "result.json" && files.push(path.join(d, e.name)));
    walk(out);
    let compute = 0, wire = 0;
    for (const f of files) {
      const r = JSON.parse(fs.readFileSync(f, "utf8"));
      compute += r.timings.trainSeconds + r.timings.evalSeconds;
      const w = fs.statSync(path.join(path.dirname(f), "weights.safetensors")).size;
      wire += JSON.stringify(r).length + Math.ceil(w / 3) * 4;
    }
    const cells = files.length, perCell = compute / cells;
    // n processes work in parallel: each cell occupies one of them for wall*n/cells seconds.
    const overhead = (wall * n) / cells - perCell;
    console.log([String(n).padEnd(8), String(cells).padStart(6), wall.toFixed(1).padStart(8),
      (cells / wall).toFixed(2).padStart(8), (perCell * 1000).toFixed(0).padStart(12),
      (overhead * 1000).toFixed(0).padStart(14), (cmds / cells).toFixed(0).padStart(14),
      ((cpu / cells) * 1000).toFixed(2).padStart(12),
      (wire / cells / 1024).toFixed(1).padStart(10)].join(" "));
  ' "$out" "$n" "$(echo "$t1 - $t0" | bc)" "$((c1 - c0))" "$(echo "$u1 - $u0" | bc)"
  for p in "${workers[@]}"; do kill "$p"; done
  for p in "${workers[@]}"; do wait "$p" 2>/dev/null || true; done
done
