#!/usr/bin/env bash
# statsd.sh start|stop|status|dump|reset|lines|mgmt CMD|send udp|tcp|tls LINE...
# Runs the Etsy statsd daemon (npm statsd@0.9.0, installed into peers/node_modules) with
#   UDP  127.0.0.1:$STATSD_UDP_PORT  (default 18125)
#   TCP  127.0.0.1:$STATSD_TCP_PORT  (default 18127; newline-framed)
#   mgmt 127.0.0.1:$STATSD_MGMT_PORT (default 18126; commands: stats counters gauges timers health ...)
#   TLS  127.0.0.1:$STATSD_TLS_PORT  (default 18128) = stunnel4 terminating TLS in front of the TCP
#        port, server cert from make-certs.sh in $STATSD_CERT_DIR (default peers/.run/certs);
#        STATSD_TLS_MTLS=1 makes stunnel require a client cert signed by that CA.
#   unix $E2E_RUN/statsd.sock  (statsd's TCP server on a Unix stream socket; this project's addition)
#   unixgram $E2E_RUN/statsd.dgram (socat relays each datagram to the UDP port; this project's addition)
# flushInterval 500 ms; every flush is appended as JSON to $E2E_RUN/statsd-flushes.jsonl.
#   dump   waits for 2 more flushes, then prints JSON: counters summed over all flushes since
#          start/reset, last gauges, all timer samples, set members (incl. statsd.bad_lines_seen).
#   reset  forgets recorded flushes.   lines: raw lines received since start/reset, plus
#          statsd's "Bad line: ..." notes (dumpMessages is on).
#   send   one write of the LINEs (newline-joined, trailing newline) via socat.
set -uo pipefail
source "$(dirname "$0")/_lib.sh"
need node nodejs; need npm npm; need stunnel4 stunnel4; need socat socat; need nc netcat-openbsd; need jq jq

UDP=${STATSD_UDP_PORT:-18125} TCP=${STATSD_TCP_PORT:-18127} MGMT=${STATSD_MGMT_PORT:-18126} TLS=${STATSD_TLS_PORT:-18128}
CERTS=${STATSD_CERT_DIR:-$RUN/certs}
SD=$HERE/node_modules/statsd; FLUSHES=$RUN/statsd-flushes.jsonl; LOG=$RUN/statsd.log
mgmt() { printf '%s\n' "$*" | nc -w 1 127.0.0.1 "$MGMT"; }
flushes() { wc -l <"$FLUSHES" 2>/dev/null || echo 0; }

case ${1:-} in
  start)
    if [ "$(node -p 'require(process.argv[1]).version' "$SD/package.json" 2>/dev/null)" != 0.9.0 ]; then
      log "npm install statsd@0.9.0 into $HERE/node_modules"
      (cd "$HERE" && npm install --no-save --omit=optional --no-audit --no-fund --loglevel=error statsd@0.9.0 >&2) || die "npm install failed"
    fi
    if pid_alive statsd "$RUN/statsd-config.js"; then log "statsd already running (pid $(cat "$RUN/statsd.pid"))"
    else
      for p in $TCP $MGMT; do nc -z 127.0.0.1 "$p" && die "port $p already in use by another process"; done
      rm -f "$RUN/statsd.sock"   # statsd removes it only on a clean exit
      cat >"$RUN/statsd-config.js" <<JS
{ servers: [ { server: "./servers/udp", address: "127.0.0.1", port: $UDP },
             { server: "./servers/tcp", address: "127.0.0.1", port: $TCP },
             { server: "./servers/tcp", socket: "$RUN/statsd.sock" } ],
  mgmt_address: "127.0.0.1", mgmt_port: $MGMT,
  flushInterval: 500, dumpMessages: true,
  backends: [ "$HERE/statsd-jsonl-backend.js" ], jsonl: { file: "$FLUSHES" } }
JS
      : >"$FLUSHES"; echo 0 >"$RUN/statsd-lines.mark"
      start_bg statsd "$LOG" node "$SD/bin/statsd" "$RUN/statsd-config.js"
      wait_until 15 bash -c "printf 'health\n' | nc -w 1 127.0.0.1 $MGMT | grep -q up" \
        || { cat "$LOG" >&2; die "statsd mgmt port $MGMT not answering"; }
      sleep 0.3; pid_alive statsd "$RUN/statsd-config.js" || { cat "$LOG" >&2; die "statsd exited"; }
      log "statsd 0.9.0 pid $(cat "$RUN/statsd.pid"): udp $UDP tcp $TCP mgmt $MGMT"
    fi
    if ! pid_alive socat-dgram "$RUN/statsd.dgram"; then
      start_bg socat-dgram "$RUN/socat-dgram.log" socat -u -b 65536 "UNIX-RECV:$RUN/statsd.dgram,unlink-early" "UDP-SENDTO:127.0.0.1:$UDP"
      wait_until 5 test -S "$RUN/statsd.dgram" || { cat "$RUN/socat-dgram.log" >&2; die "socat relay did not start"; }
    fi
    if pid_alive stunnel "$RUN/stunnel.conf"; then log "stunnel already running (pid $(cat "$RUN/stunnel.pid"))"
    else
      nc -z 127.0.0.1 "$TLS" && die "port $TLS already in use by another process"
      "$HERE/make-certs.sh" "$CERTS"
      { echo "foreground = yes"; echo "pid ="; echo "[statsd-tls]"; echo "accept = 127.0.0.1:$TLS"
        echo "connect = 127.0.0.1:$TCP"; echo "cert = $CERTS/server.crt"; echo "key = $CERTS/server.key"
        [ "${STATSD_TLS_MTLS:-0}" = 1 ] && printf 'CAfile = %s\nverifyChain = yes\nrequireCert = yes\n' "$CERTS/ca.crt"
      } >"$RUN/stunnel.conf"
      start_bg stunnel "$RUN/stunnel.log" stunnel4 "$RUN/stunnel.conf"
      wait_until 10 nc -z 127.0.0.1 "$TLS" || { cat "$RUN/stunnel.log" >&2; die "stunnel not listening on $TLS"; }
      log "stunnel $(stunnel4 -version 2>&1 | grep -o 'stunnel [0-9.]*' | head -1) pid $(cat "$RUN/stunnel.pid"): tls $TLS -> tcp $TCP (mtls=${STATSD_TLS_MTLS:-0})"
    fi ;;
  stop) stop_pid stunnel "$RUN/stunnel.conf"; stop_pid socat-dgram "$RUN/statsd.dgram"; stop_pid statsd "$RUN/statsd-config.js" ;;
  status)
    pid_alive statsd "$RUN/statsd-config.js" && pid_alive stunnel "$RUN/stunnel.conf" && mgmt health | grep -q up \
      && echo "running: udp $UDP tcp $TCP mgmt $MGMT tls $TLS" || { echo "not running"; exit 1; } ;;
  dump)
    pid_alive statsd "$RUN/statsd-config.js" || die "statsd not running"
    n=$(( $(flushes) + 2 )); wait_until 10 bash -c "[ \$(wc -l <'$FLUSHES') -ge $n ]" || die "no flush seen"
    jq -s '{
      counters: (reduce (.[].counters | to_entries[]) as $e ({}; .[$e.key] += $e.value)),
      gauges:   (last.gauges // {}),
      timers:   (reduce (.[].timers   | to_entries[]) as $e ({}; .[$e.key] += $e.value)),
      sets:     (reduce (.[].sets     | to_entries[]) as $e ({}; .[$e.key] = ((.[$e.key] // []) + $e.value | unique)))
    }' "$FLUSHES" ;;
  reset) : >"$FLUSHES"; wc -l <"$LOG" >"$RUN/statsd-lines.mark" ;;
  lines) tail -n "+$(( $(cat "$RUN/statsd-lines.mark" 2>/dev/null || echo 0) + 1 ))" "$LOG" | sed -n 's/^.* - DEBUG: //p' ;;
  mgmt) shift; mgmt "$@" ;;
  send)
    shift; proto=${1:?send udp|tcp|tls LINE...}; shift
    case $proto in
      udp) dst=UDP-SENDTO:127.0.0.1:$UDP ;;
      tcp) dst=TCP:127.0.0.1:$TCP ;;
      tls) dst=OPENSSL:127.0.0.1:$TLS,cafile=$CERTS/ca.crt,cert=$CERTS/client.crt,key=$CERTS/client.key ;;
      *) die "send udp|tcp|tls LINE..." ;;
    esac
    printf '%s\n' "$@" | socat -u - "$dst" ;;
  *) awk 'NR>1 && !/^#/{exit} NR>1{sub(/^# ?/,""); print}' "$0"; exit 2 ;;
esac
