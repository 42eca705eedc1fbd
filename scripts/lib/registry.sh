# shellcheck shell=bash
# Sourced by the acceptance scripts (rollout-acceptance.sh, functions-acceptance.sh): a throwaway docker-registry
# on a free loopback port, and the two helpers they share. The caller sets `work` (a temporary folder it removes)
# and the array `pids` (the processes its cleanup stops) before calling start_registry.

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits up to a minute for $1 (a URL) to answer; else prints $2 (the server's log) and fails.
wait_for() {
  for _ in $(seq 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  cat "$2" >&2; echo "FAIL: $1 did not come up" >&2; exit 1
}

# Debian's docker-registry with its storage in $work/registry and its log in $work/registry.log, added to pids;
# returns once it answers, with `registry` set to its host:port (plain HTTP).
start_registry() {
  [[ -x /usr/bin/docker-registry ]] || { echo "FAIL: docker-registry missing: run scripts/install-test-prereqs.sh" >&2; exit 1; }
  registry="127.0.0.1:$(free_port)"
  cat >"$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: ${registry}
YAML
  /usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  pids+=($!)
  wait_for "http://${registry}/v2/" "$work/registry.log"
}
