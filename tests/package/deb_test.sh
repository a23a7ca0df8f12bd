#!/usr/bin/env bash
# The Debian package as a user gets it (docs/packaging.md): built with
# CPack from this build's programs, its control data and maintainer scripts
# checked, unpacked into a scratch root, its systemd unit verified, and a
# node started from the unpacked files and driven by the unpacked CLI.
# Usage: tests/package/deb_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack"; }
deb=$(ls "$work"/out/chipledger_*_amd64.deb)
echo "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"

control=$(dpkg-deb -f "$deb")
grep -q '^Package: chipledger$' <<<"$control" || fail "package name"
depends=$(dpkg-deb -f "$deb" Depends)
# RocksDB is linked in from librocksdb.a by default (CHIPLEDGER_STATIC_ROCKSDB):
# then its compression libraries are what the package needs from it.
needed=$(readelf -d "$build/chipledger-node")
if grep -q 'NEEDED.*librocksdb' <<<"$needed"; then
  rocksdb=librocksdb
else
  rocksdb=libsnappy
  if grep -q librocksdb <<<"$depends"; then fail "RocksDB is linked in, yet Depends has librocksdb: $depends"; fi
fi
for lib in adduser "$rocksdb" libraft libsodium libssl3 libjemalloc2 libprometheus-cpp-core libspdlog; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
# Listed once, then searched: `tar | grep -q` under pipefail fails when grep
# quits early and tar gets SIGPIPE (it made this check flaky).
members=$(dpkg-deb --ctrl-tarfile "$deb" | tar -t)
for script in postinst prerm postrm; do
  grep -qx "./$script" <<<"$members" || fail "no $script"
done
dpkg-deb -e "$deb" "$work/control"
for script in postinst prerm postrm; do sh -n "$work/control/$script" || fail "$script: syntax"; done
grep -q 'adduser --system --group --home /var/lib/chipledger' "$work/control/postinst" ||
  fail "postinst does not create the chipledger user"
grep -q 'install -d -m 0750 -o chipledger -g chipledger /var/lib/chipledger' "$work/control/postinst" ||
  fail "postinst does not make the data folder"
# No maintainer script removes the data folder, its files or the user that owns them.
for script in postinst prerm postrm; do
  if grep -Eq '(^|[^a-z])(rm|rmdir|deluser|userdel)([^a-z]|$)' "$work/control/$script"; then
    fail "$script removes files or the user"
  fi
done

root="$work/root"
dpkg-deb -x "$deb" "$root"
for f in usr/bin/chipledger-node usr/bin/chipledger usr/bin/chipledger-landmark \
         usr/lib/systemd/system/chipledger-node.service usr/share/chipledger/demo-consortium.json \
         usr/share/chipledger/grafana-dashboard.json usr/share/doc/chipledger/README.md \
         usr/share/doc/chipledger/docs/packaging.md; do
  [ -e "$root/$f" ] || fail "the package lacks /$f"
done
unit="$root/usr/lib/systemd/system/chipledger-node.service"
for line in 'User=chipledger' 'Group=chipledger' 'Restart=on-failure' 'RestartPreventExitStatus=2 3' \
            'ExecStart=/usr/bin/chipledger-node --config /var/lib/chipledger/node.toml' \
            'ReadWritePaths=/var/lib/chipledger' 'WantedBy=multi-user.target'; do
  grep -qx "$line" "$unit" || fail "the unit lacks $line"
done
# systemd's own check of the unit, its programs pointed into the scratch root.
if command -v systemd-analyze >/dev/null; then
  sed "s|/usr/bin/chipledger-node|$root/usr/bin/chipledger-node|" "$unit" >"$work/chipledger-node.service"
  # It reports a bad line of the unit as FILE:LINE: ... and may still exit
  # 0; outside a booted systemd it may also fail to reach the manager, which
  # is not the unit's fault: only the unit's own lines count.
  systemd-analyze verify "$work/chipledger-node.service" >"$work/verify.log" 2>&1 || true
  if grep -q 'chipledger-node.service:' "$work/verify.log"; then
    cat "$work/verify.log"
    fail "systemd-analyze verify"
  fi
fi
echo "control data, maintainer scripts and the unit checked"

# A node from the unpacked files, driven by the unpacked CLI.
bin="$root/usr/bin"
"$bin/chipledger-node" init --dir "$work/node" --port 0 \
  --template "$root/usr/share/chipledger/demo-consortium.json" >"$work/init.log"
"$bin/chipledger-node" --config "$work/node/node.toml" >"$work/node.log" 2>&1 &
pid=$!
url=
for _ in $(seq 1 300); do
  url=$(sed -n 's/.*listening on //p' "$work/node.log")
  url=${url%%$'\n'*}  # the first (no `| head`: a SIGPIPE fails the pipe)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/node.log"; fail "the packaged node exited"; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/node.log"; fail "the packaged node did not start in 30 s"; }
cli=("$bin/chipledger" --node "$url" --trust "$work/node/consortium.json" --state "$work/state.json")
"${cli[@]}" register --as maker --key "$work/node/keys/maker.pem" --serial PKG-0001 \
  --model H100-SXM5 --fab-site "Fab 18" --country TW >"$work/register.log" ||
  { cat "$work/register.log"; fail "register through the packaged CLI"; }
grep -q 'register accepted at log index 0' "$work/register.log" || fail "no receipt"
set +e
"${cli[@]}" verify PKG-0001 >"$work/verify-chip.log" 2>&1
code=$?
set -e
[ "$code" -eq 17 ] || { cat "$work/verify-chip.log"; fail "verify exit $code, not 17 (not-installed)"; }
echo "the packaged node served $url; the packaged CLI registered and verified PKG-0001"

# cmake --install puts the same files under a prefix.
cmake --install "$build" --prefix "$work/prefix" >/dev/null
[ -x "$work/prefix/bin/chipledger-node" ] && [ -f "$work/prefix/lib/systemd/system/chipledger-node.service" ] ||
  fail "cmake --install"
echo "ok"
