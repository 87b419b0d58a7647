#!/usr/bin/env bash
# prom-scrape.sh HOST:PORT [--tls CA CERT KEY] [--basic USER PASS] [--bearer TOKEN] [--path /metrics]
#                [--query PROMQL]... [--expect-down] [--honor-labels] [--timeout SECS]
# Runs the real Prometheus server (Debian's `prometheus`) on a free loopback port with a
# fresh temp storage dir, scraping HOST:PORT every 1s as job "e2e"; waits until
# up{job="e2e"} == 1 via /api/v1/query; then for each --query waits for a non-empty result
# and prints it as `name{labels} value`; then stops Prometheus (its PID only) and cleans up.
#   --tls CA CERT KEY  scrape over https, verify server against CA; present CERT/KEY as the
#                      client cert (mTLS). Use - - for CERT KEY to do TLS without a client cert.
#   --expect-down      succeed only if the scrape FAILS (up == 0); prints Prometheus' lastError.
# Env: PROM_PORT (default: any free port), KEEP_WORK=1 keeps the config/log/data dir.
# Exit: 0 ok; 1 target never up (lastError printed) / setup failure; 2 a --query had no data.
set -uo pipefail
source "$(dirname "$0")/_lib.sh"
need prometheus prometheus; need curl curl; need jq jq

TARGET=${1:?usage: prom-scrape.sh HOST:PORT [--tls CA CERT KEY] [--basic USER PASS] [--query EXPR]...}; shift
SCHEME=http CA= CERT= KEY= USER= PASS= BEARER= MPATH=/metrics EXPECT=up HONOR=false TIMEOUT=30 QUERIES=()
while [ $# -gt 0 ]; do case $1 in
  --tls) SCHEME=https CA=$(realpath "$2") CERT=$3 KEY=$4; shift 4
         [ "$CERT" = - ] || { CERT=$(realpath "$CERT"); KEY=$(realpath "$KEY"); } ;;
  --basic) USER=$2 PASS=$3; shift 3 ;;
  --bearer) BEARER=$2; shift 2 ;;
  --path) MPATH=$2; shift 2 ;;
  --query) QUERIES+=("$2"); shift 2 ;;
  --expect-down) EXPECT=down; shift ;;
  --honor-labels) HONOR=true; shift ;;
  --timeout) TIMEOUT=$2; shift 2 ;;
  *) die "unknown arg: $1" ;;
esac; done

WORK=$(mktemp -d "$RUN/prom.XXXXXX"); PORT=${PROM_PORT:-$(free_port)}; API=http://127.0.0.1:$PORT
PID=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill "$PID"; wait "$PID" 2>/dev/null; fi
  [ "${KEEP_WORK:-0}" = 1 ] && log "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

# Config as JSON (valid YAML), built by jq so passwords/paths need no escaping.
jq -n --arg t "$TARGET" --arg scheme "$SCHEME" --arg path "$MPATH" --argjson honor "$HONOR" \
      --arg ca "$CA" --arg cert "$CERT" --arg key "$KEY" --arg user "$USER" --arg pass "$PASS" --arg bearer "$BEARER" '
  {global: {scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s"},
   scrape_configs: [
     ({job_name: "e2e", scheme: $scheme, metrics_path: $path, honor_labels: $honor,
       static_configs: [{targets: [$t]}]}
      + (if $ca != "" then {tls_config: ({ca_file: $ca}
            + (if $cert != "-" then {cert_file: $cert, key_file: $key} else {} end))} else {} end)
      + (if $user != "" then {basic_auth: {username: $user, password: $pass}} else {} end)
      + (if $bearer != "" then {authorization: {type: "Bearer", credentials: $bearer}} else {} end))]}
' >"$WORK/prometheus.yml"

prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/data" \
  --web.listen-address="127.0.0.1:$PORT" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PID=$!
wait_until 30 curl -fs "$API/-/ready" || { cat "$WORK/prometheus.log" >&2; die "prometheus did not become ready"; }
log "prometheus $(prometheus --version 2>&1 | head -1 | cut -d' ' -f3) pid $PID on $API scraping $SCHEME://$TARGET$MPATH"

query() { curl -fsS -G "$API/api/v1/query" --data-urlencode "query=$1"; }
up_value() { query 'up{job="e2e"}' | jq -r '.data.result[0].value[1] // empty'; }
up_is() { [ "$(up_value)" = "$1" ]; }
last_error() { curl -fsS "$API/api/v1/targets" | jq -r '.data.activeTargets[] | select(.labels.job=="e2e") | "health=\(.health) lastError=\(.lastError)"'; }

if [ "$EXPECT" = down ]; then
  wait_until "$TIMEOUT" up_is 0 || { log "up is '$(up_value)', expected 0"; exit 1; }
  echo "up 0 ($(last_error))"; exit 0
fi
if ! wait_until "$TIMEOUT" up_is 1; then
  log "target not up after ${TIMEOUT}s: $(last_error)"; exit 1
fi
echo "up 1"
RC=0
for q in "${QUERIES[@]}"; do
  fmt='.data | if .resultType == "scalar" then .result[1] else .result[] |
       ((.metric.__name__ // "") + "{" + ([.metric | to_entries[] | select(.key != "__name__") |
       "\(.key)=\"\(.value)\""] | join(",")) + "} " + .value[1]) end'
  nonempty() { query "$q" | jq -e '.data.result | length > 0' >/dev/null; }
  if wait_until "$TIMEOUT" nonempty; then query "$q" | jq -r "$fmt"
  else log "no data for query: $q"; RC=2; fi
done
exit $RC
