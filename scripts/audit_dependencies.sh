#!/usr/bin/env bash
# Dependency audit of the hash-pinned requirements.lock with pip-audit (issue #10).
#
#   scripts/audit_dependencies.sh            # run by .ci/run
#
# Exit status:
#   0  every pinned package was checked and none has a known vulnerability, or the vulnerability
#      database could not be reached (then it says so loudly: NOT AUDITED, and which packages);
#   1  a package has a known vulnerability (the build fails), or pip-audit itself failed for
#      another reason (a lock it cannot read, …);
#   2  the database could not be reached and WSIS_AUDIT_REQUIRE_DATABASE=1 (a CI runner that is
#      known to have the network should set it, so an outage cannot pass unnoticed for long).
#
# How: pip-audit reads the lock as it is (`--disable-pip`: no resolution, nothing installed;
# the lock carries hashes, so `--require-hashes` holds and every package is pinned exactly)
# and asks a vulnerability database about each name==version. It tries the services in
# WSIS_AUDIT_SERVICES (default: "osv pypi") until one answers for every package:
#   - osv:  the OSV API (api.osv.dev; WSIS_AUDIT_OSV_URL for a mirror) — PyPA advisories, GHSA;
#   - pypi: PyPI's JSON API (/pypi/<name>/<version>/json, its `vulnerabilities`).
# pip-audit alone would mislead offline: OSV unreachable is a traceback and exit 1 (as if a
# vulnerability had been found), and a PyPI that answers 404 for the per-version JSON (some
# mirrors serve only /simple) makes it skip every package and print "No known vulnerabilities
# found" with exit 0. Hence the classification below (and no `--strict`, which would turn the
# first skipped package into an opaque failure).
#
# Other settings: WSIS_AUDIT_LOCK (default requirements.lock), WSIS_AUDIT_TIMEOUT (seconds per
# request, default 15), WSIS_AUDIT_IGNORE (space-separated vulnerability ids to accept, each with
# its reason written next to the setting that uses it).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

lock="${WSIS_AUDIT_LOCK:-requirements.lock}"
services="${WSIS_AUDIT_SERVICES:-osv pypi}"
timeout_s="${WSIS_AUDIT_TIMEOUT:-15}"
pip_audit="${PIP_AUDIT:-$root/.venv/bin/pip-audit}"
python="${PYTHON:-$root/.venv/bin/python}"
workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT

[ -f "$lock" ] || { echo "audit: $lock not found" >&2; exit 1; }
[ -x "$pip_audit" ] || { echo "audit: pip-audit not found at $pip_audit (make install)" >&2; exit 1; }

ignore_args=()
for id in ${WSIS_AUDIT_IGNORE:-}; do ignore_args+=(--ignore-vuln "$id"); done

unreachable=()
for service in $services; do
  out="$workdir/$service.json"
  err="$workdir/$service.err"
  args=(--requirement "$lock" --disable-pip --require-hashes
        --vulnerability-service "$service" --timeout "$timeout_s"
        --progress-spinner off --format json --output "$out" --cache-dir "$workdir/cache")
  if [ "$service" = osv ] && [ -n "${WSIS_AUDIT_OSV_URL:-}" ]; then
    args+=(--osv-url "$WSIS_AUDIT_OSV_URL")
  fi
  started=$(date +%s)
  "$pip_audit" "${args[@]}" "${ignore_args[@]}" >"$workdir/$service.stdout" 2>"$err"
  status=$?
  elapsed=$(( $(date +%s) - started ))
  # verdict: audited | vulnerable | unreachable | error, then a human summary on the next lines
  verdict="$("$python" - "$out" "$err" "$status" "$service" "$elapsed" <<'PY'
import json, sys
from pathlib import Path

out, err, status, service, elapsed = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
stderr = err.read_text(errors="replace") if err.exists() else ""
network = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "ConnectTimeout",
           "ReadTimeout", "Temporary failure in name resolution", "timed out", "SSLError",
           "ProxyError", "Network is unreachable", "Connection refused",
           "your network may be blocking this service")
if not out.exists() or not out.read_text().strip():
    last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit status {status}"
    if any(word in stderr for word in network):
        print(f"unreachable\n{service}: the vulnerability database did not answer ({last})")
    else:
        print(f"error\n{service}: pip-audit failed: {last}")
    sys.exit()
report = json.loads(out.read_text())
deps = report.get("dependencies", [])
skipped = [d for d in deps if "skip_reason" in d]
vulnerable = [d for d in deps if d.get("vulns")]
audited = len(deps) - len(skipped)
lines = []
for dep in vulnerable:
    for vuln in dep["vulns"]:
        fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
        aliases = ", ".join(vuln.get("aliases") or [])
        lines.append(f"  {dep['name']}=={dep['version']}: {vuln['id']}"
                     f"{f' ({aliases})' if aliases else ''} — fixed in {fixed}")
if vulnerable:
    print(f"vulnerable\n{service}: {sum(len(d['vulns']) for d in vulnerable)} known "
          f"vulnerabilities in {len(vulnerable)} of {audited} audited packages:")
    print("\n".join(lines))
    if skipped:
        print(f"  (and {len(skipped)} packages could not be audited: "
              f"{', '.join(d['name'] for d in skipped)})")
elif skipped:
    reason = skipped[0]["skip_reason"]
    print(f"unreachable\n{service}: {len(skipped)} of {len(deps)} packages could not be audited "
          f"(first: {reason}); the database does not answer for them from here")
    if len(skipped) < len(deps):
        print(f"  unaudited: {', '.join(d['name'] + '==' + d.get('version', '?') for d in skipped)}")
elif status != 0:
    print(f"error\n{service}: pip-audit exited with {status}: {stderr.strip()[-500:]}")
else:
    print(f"audited\n{service}: no known vulnerabilities in the {audited} packages of the lock "
          f"({elapsed}s)")
PY
)"
  kind="${verdict%%$'\n'*}"
  summary="${verdict#*$'\n'}"
  case "$kind" in
    audited)
      echo "audit: $summary"
      exit 0 ;;
    vulnerable)
      echo "audit: FAILED — $summary" >&2
      echo "audit: upgrade the package (make lock), or accept an id with WSIS_AUDIT_IGNORE and a written reason" >&2
      exit 1 ;;
    unreachable)
      echo "audit: $summary" >&2
      unreachable+=("$service") ;;
    *)
      echo "audit: $summary" >&2
      exit 1 ;;
  esac
done

cat >&2 <<EOF
audit: ############################################################################
audit: NOT AUDITED — no vulnerability database could be reached from this machine
audit: (tried: ${unreachable[*]}). The $(grep -c '^[A-Za-z0-9]' "$lock") pinned packages of $lock
audit: were read and their hashes are present, but none was checked for known
audit: vulnerabilities. Run scripts/audit_dependencies.sh where api.osv.dev or
audit: pypi.org/pypi/<name>/<version>/json is reachable (WSIS_AUDIT_OSV_URL for a mirror).
audit: ############################################################################
EOF
if [ "${WSIS_AUDIT_REQUIRE_DATABASE:-0}" = 1 ]; then exit 2; fi
exit 0
