#!/bin/sh
# Rebuilds the committed snapshots: copies each app to /tmp/heap-<app>, installs its
# real packages with npm, takes three snapshots with take_snapshots.js and keeps
# them gzipped in snapshots/<app>/, with the sampling heap profile (node --heap-prof) of the
# same run. Needs node and npm (and the registry). The tests use a part of them: see
# tests/heap/conftest.py.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
for app in ${APPS:-debug-leak two-leaks session-leak steady}; do
  work=/tmp/heap-$app
  rm -rf "$work" && mkdir -p "$work/out"
  cp "$here/apps/$app/package.json" "$here/apps/$app/app.js" "$here/serve.js" "$work/"
  (cd "$work" && npm install --no-audit --no-fund --silent)
  HEAP_PROF=1 node "$here/take_snapshots.js" "$work" "$work/out" "${REQUESTS:-1000}" 3
  mkdir -p "$here/snapshots/$app"
  rm -f "$here/snapshots/$app"/*
  for f in "$work"/out/*.heapsnapshot; do
    gzip -9 -c "$f" > "$here/snapshots/$app/$(basename "$f").gz"
  done
  case $app in  # the tests need three snapshots of these only
    debug-leak|session-leak) rm "$here/snapshots/$app/2.heapsnapshot.gz" ;;
  esac
  gzip -9 -c "$work"/out/*.heapprofile > "$here/snapshots/$app/app.heapprofile.gz"
  # the lockfile, with the registry's host left out
  sed -E 's#"resolved": "https://[^/]+/#"resolved": "https://registry.invalid/#' \
    "$work/package-lock.json" > "$here/apps/$app/package-lock.json"
done
