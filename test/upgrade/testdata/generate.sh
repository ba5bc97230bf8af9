#!/usr/bin/env bash
# Writes a SQLite and a bbolt store with a release's kmipd, for test/upgrade.
# Usage: generate.sh KMIPD_BINARY KMIPCTL_BINARY OUT_PREFIX
# The objects (owned by the development client CN "admin") and their identifiers
# go to OUT_PREFIX-manifest.json; the stores to OUT_PREFIX-sqlite.db and
# OUT_PREFIX-bbolt.db. The key bytes are fixed test values, not secrets.
set -euo pipefail
kmipd=$1 ctl=$2 out=$3
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
manifest="{"
for storage in sqlite bbolt; do
  dir=$work/$storage port=$((15800 + RANDOM % 100))
  "$kmipd" -dev -dev-dir "$dir" -port $port -storage-type $storage -storage-path "$dir/kmipd.db" > "$dir.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do [ -f "$dir/pykmip.conf" ] && grep -q "port=$port" "$dir/pykmip.conf" && break; sleep 0.1; done
  sleep 0.5
  export KMIPCTL_CONFIG=$dir/pykmip.conf
  uid() { "$ctl" "$@" -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Unique Identifier") or d["Private Key Unique Identifier"] + " " + d["Public Key Unique Identifier"])'; }
  aes=$(printf '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f' | uid register -hex -alg AES -usage 'Encrypt|Decrypt' -name upgrade-aes -attr 'x-note=kept across upgrades')
  "$ctl" activate "$aes" > /dev/null
  secret=$(printf 'hunter2' | uid register -type secret -name upgrade-secret)
  read -r priv pub < <(uid create-key-pair -alg RSA -length 2048 -name upgrade-rsa)
  cert=$(uid register -type certificate -in "$dir/ca.pem" -name upgrade-cert)
  gone=$(printf 'ffeeddccbbaa99887766554433221100' | uid register -hex -alg AES -name upgrade-destroyed)
  "$ctl" destroy "$gone" > /dev/null
  kill -TERM $pid; wait $pid || true
  cp "$dir/kmipd.db" "$out-$storage.db"
  manifest+="\"$storage\": {\"aes\": \"$aes\", \"secret\": \"$secret\", \"private\": \"$priv\", \"public\": \"$pub\", \"certificate\": \"$cert\", \"destroyed\": \"$gone\"},"
done
printf '%s\n' "${manifest%,}}" | python3 -m json.tool > "$out-manifest.json"
