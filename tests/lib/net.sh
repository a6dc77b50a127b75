# tests/lib/net.sh - sourced by the shell tests that drive `hmb serve`.

# free_port: print a TCP port on 127.0.0.1 that is free now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_health PORT: wait up to 15 s for GET /health on PORT to answer.
wait_health() {
  python3 - "$1" <<'PY'
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=1).read()
        sys.exit(0)
    except Exception:
        time.sleep(0.05)
sys.exit(1)
PY
}
