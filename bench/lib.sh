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

# Prints the median of command INDEX (0-based) of hyperfine run NAME, in milliseconds.
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
