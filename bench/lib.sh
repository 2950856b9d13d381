# shellcheck shell=bash disable=SC2154
# Helpers for scripts/bench (sourced, not run). Expects $scratch (the scratch folder), $results
# (a file of one JSON result per line), $warmup and $runs to be set by the caller.

# Progress goes to stderr so that stdout carries only the table.
bench_log() {
  printf '%s\n' "$*" >&2
}

# Installs the Debian packages the benchmarks need beyond scripts/setup's, the same way:
# nothing when all are present, else apt-get as root or through sudo.
bench_install() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      bench_log "scripts/bench: need root or sudo to install: ${missing[*]}"
      return 1
    fi
    sudo=(sudo)
  fi
  bench_log "scripts/bench: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Prints how long one synced 4 KiB write takes in folder DIR, in milliseconds: every database
# commit waits for at least one, so it bounds beats per second and pulse start-up.
bench_fsync_ms() {
  local seconds
  seconds=$(LC_ALL=C dd if=/dev/zero of="$1/dsync.bin" bs=4k count=50 oflag=dsync 2>&1 |
    awk '/copied/ { sub(/.*copied, /, ""); sub(/ s,.*/, ""); print }')
  rm -f "$1/dsync.bin"
  bench_calc "${seconds:-0} * 1000 / 50"
}

# Prints the machine as a JSON object: cores, CPU model, kernel, RAM, load when the bench began,
# and the latency of a synced write in folder DIR (where the databases live).
bench_machine_json() {
  local model ram_kb
  model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  ram_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
  jq -n --arg cores "$(nproc)" --arg model "${model:-unknown}" --arg kernel "$(uname -sr)" \
    --arg ram_kb "$ram_kb" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
    --arg fsync "$(bench_fsync_ms "$1")" --arg dir "$1" \
    '{cores: ($cores | tonumber), cpu_model: $model, kernel: $kernel,
      ram_gib: (($ram_kb | tonumber) / 1048576 * 10 | round / 10), load_at_start: $load,
      fsync_ms: ($fsync | tonumber? // null), fsync_dir: $dir}'
}

# Arithmetic on decimals: bench_calc EXPR [DECIMALS]. Prints "null" when EXPR divides by zero.
bench_calc() {
  local x
  x=$(awk "BEGIN { printf \"%.${2:-2}f\", ($1) }" 2>/dev/null) || x=null
  case $x in
    *inf* | *nan* | '') echo null ;;
    *) echo "$x" ;;
  esac
}

# Runs hyperfine without a shell, writing its JSON export to $scratch/hf-NAME.json. Every command
# gets the same warmup and run count ($warmup, $runs); non-zero exits are ignored because plugins
# and hb-status report failing targets through their exit code.
bench_hyperfine() {
  local name=$1
  shift
  hyperfine -N -i --style basic --warmup "$warmup" --runs "$runs" \
    --export-json "$scratch/hf-$name.json" "$@" >"$scratch/hf-$name.log" 2>&1 || {
    bench_log "hyperfine failed ($name):"
    tail -20 "$scratch/hf-$name.log" >&2
    return 1
  }
}

# Times commands in rounds: bench_rounds NAME WARMUP RUNS LABEL PREPARE COMMAND [LABEL PREPARE
# COMMAND ...]. Each round runs every COMMAND once, in turn, each right after its PREPARE, where
# hyperfine runs one command's runs back to back and then the next: load that comes and goes
# (another build on the machine) then falls on every command alike, and their ratios stay fair.
# PREPARE and COMMAND run without a shell, split on spaces (as hyperfine -N does), their output
# discarded; the first failure stops it (a COMMAND may exit up to $BENCH_OK_EXIT, default 0:
# hb-status answers 2 for a fleet with failing targets). Writes $scratch/hf-NAME.json in the
# shape of hyperfine's export (seconds), so that bench_median_ms and bench_stats_json read it.
bench_rounds() {
  local name=$1 warm=$2 n=$3 ok_exit=${BENCH_OK_EXIT:-0}
  shift 3
  local labels=() prepares=() commands=() i round t0 t1 rc tsv=$scratch/rounds-$name.tsv
  while [ $# -ge 3 ]; do
    labels+=("$1") prepares+=("$2") commands+=("$3")
    shift 3
  done
  : >"$tsv"
  for ((round = 0; round < warm + n; round++)); do
    for i in "${!commands[@]}"; do
      # shellcheck disable=SC2086 # split on spaces, as hyperfine -N does
      if ! ${prepares[i]} >/dev/null 2>>"$scratch/rounds-$name.log"; then
        bench_log "bench_rounds $name: the preparation of \"${labels[i]}\" failed:"
        tail -20 "$scratch/rounds-$name.log" >&2
        return 1
      fi
      t0=${EPOCHREALTIME/./} # microseconds, without starting a process as date would
      rc=0
      # shellcheck disable=SC2086
      ${commands[i]} >/dev/null 2>>"$scratch/rounds-$name.log" || rc=$?
      if [ "$rc" -gt "$ok_exit" ]; then
        bench_log "bench_rounds $name: \"${labels[i]}\" failed (exit $rc):"
        tail -20 "$scratch/rounds-$name.log" >&2
        return 1
      fi
      t1=${EPOCHREALTIME/./}
      if [ "$round" -ge "$warm" ]; then
        printf '%s\t%s\n' "$i" "$((t1 - t0))" >>"$tsv"
      fi
    done
  done
  jq -Rn '[inputs | split("\t") | {i: (.[0] | tonumber), s: ((.[1] | tonumber) / 1e6)}]
    | group_by(.i)
    | {results: map(. as $g | [$g[].s] as $times | ($times | sort) as $t | ($t | length) as $k
        | ($t | add / $k) as $mean
        | {command: $ARGS.positional[$g[0].i], times: $times, mean: $mean,
           median: (if $k % 2 == 1 then $t[($k - 1) / 2] else ($t[$k / 2 - 1] + $t[$k / 2]) / 2 end),
           stddev: (if $k > 1 then ($t | map((. - $mean) * (. - $mean)) | add / ($k - 1) | sqrt) else null end),
           min: $t[0], max: $t[-1]})}' "$tsv" --args "${labels[@]}" >"$scratch/hf-$name.json"
}

# Prints the median of command INDEX (0-based) of hyperfine run NAME (or bench_rounds run NAME),
# in milliseconds.
bench_median_ms() {
  jq -r --argjson i "$2" '.results[$i].median * 1000 * 100 | round / 100' "$scratch/hf-$1.json"
}

# Prints hyperfine's figures for command INDEX of run NAME as a JSON object (milliseconds).
bench_stats_json() {
  jq -c --argjson i "$2" '.results[$i] | {command, runs: (.times | length),
    median_ms: (.median * 1000 * 100 | round / 100), mean_ms: (.mean * 1000 * 100 | round / 100),
    stddev_ms: ((.stddev // 0) * 1000 * 100 | round / 100), min_ms: (.min * 1000 * 100 | round / 100),
    max_ms: (.max * 1000 * 100 | round / 100)}' "$scratch/hf-$1.json"
}

# Appends one result. Arguments are name=value pairs: name, value (number), unit, baseline (a JSON
# object of name -> number), ratio (number or null), ratio_means, target, met (true, false or
# null when there is no target), notes, detail (any JSON).
bench_result() {
  local -A f=([baseline]='{}' [ratio]=null [ratio_means]='' [target]='' [met]=null [notes]=''
              [detail]='{}' [unit]='')
  local kv
  for kv in "$@"; do
    f[${kv%%=*}]=${kv#*=}
  done
  jq -nc --arg name "${f[name]}" --argjson value "${f[value]}" --arg unit "${f[unit]}" \
    --argjson baseline "${f[baseline]}" --argjson ratio "${f[ratio]}" \
    --arg ratio_means "${f[ratio_means]}" --arg target "${f[target]}" --argjson met "${f[met]}" \
    --arg notes "${f[notes]}" --argjson detail "${f[detail]}" \
    '{name: $name, value: $value, unit: $unit, baseline: $baseline, ratio: $ratio,
      ratio_means: $ratio_means, target: $target, met: $met, notes: $notes, detail: $detail}' \
    >>"$results"
}

# Prints the report file (JSON) as the table: one row per result, then the notes.
bench_print_table() {
  jq -r '
    def num: if . == null then "-" elif . >= 100 then (. | round | tostring)
             else (. * 10 | round / 10 | tostring) end;
    "date     \(.date)",
    "machine  \(.machine.cores) cores, \(.machine.cpu_model), \(.machine.ram_gib) GiB RAM, \(.machine.kernel)",
    "         load at start \(.machine.load_at_start); a synced 4 KiB write takes \(.machine.fsync_ms) ms in \(.machine.fsync_dir)",
    "commit   \(.commit)",
    "mode     \(.mode)",
    "",
    (["NAME", "HEARTBEAT", "BASELINE", "RATIO", "TARGET", "MET"] | @tsv),
    (.results[] | [.name, "\(.value | num) \(.unit)",
       ([.baseline | to_entries[] | "\(.key) \(.value | num)"] | join("; ") | if . == "" then "-" else . end),
       (if .ratio == null then "-" else "\(.ratio)x \(.ratio_means)" end),
       (if .target == "" then "-" else .target end),
       (if .met == null then "-" elif .met then "yes" else "NO" end)] | @tsv)
  ' "$1" | awk -F'\t' '
    NF <= 1 { header[++h] = $0; next }
    { rows[++n] = $0; for (i = 1; i <= NF; i++) if (length($i) > w[i]) w[i] = length($i) }
    END {
      for (i = 1; i <= h; i++) print header[i]
      for (r = 1; r <= n; r++) {
        k = split(rows[r], c, "\t"); line = ""
        for (i = 1; i <= k; i++) line = line sprintf(i < k ? "%-" w[i] "s  " : "%s", c[i])
        print line
      }
    }'
  jq -r '"", "notes:", (.results[] | select(.notes != "") | "  \(.name): \(.notes)")' "$1"
}
