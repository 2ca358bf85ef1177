# corec lock on every example, as a user runs it: each app.yml loaded with its includes and
# variables, every remote source resolved and fetched into a fresh CORE_HOME, the pins read
# back through the lock reader. The stdlib kernel and busybox are Debian packages, so this
# needs Debian's archive (deb.debian.org or the apt sources configured on the host) and nothing else.
. "$(dirname "$0")/lib.sh"

# Copies, so app.lock is written under $WORK and never into the source tree; ../debs is
# where hello finds its packages.
mkdir -p "$WORK/examples"
ln -s "$DEBS" "$WORK/examples/debs"
for app in "$ROOT"/examples/*/app.yml; do
  name=$(basename "$(dirname "$app")")
  cp -r "$(dirname "$app")" "$WORK/examples/$name"
  rm -f "$WORK/examples/$name/app.lock"
  dir=$WORK/examples/$name
  if ! "$COREC" lock --quiet "$dir/app.yml" >"$WORK/$name.out" 2>&1; then
    not_ok "corec lock examples/$name" "$(tail -5 "$WORK/$name.out")"
    continue
  fi
  if grep -q '{deb: linux-image-cloud-amd64}\|stdlib:kernel-cloud' "$dir/app.yml"; then
    # The kernel comes from Debian: it must be pinned, and the lock on disk must say so.
    if contains "$WORK/$name.out" 'pinned deb {"deb":"linux-image-cloud-amd64"}: {"package":"linux-image-' &&
      contains "$WORK/$name.out" "wrote $dir/app.lock" && grep -q '"kind": "deb"' "$dir/app.lock"; then
      ok "corec lock examples/$name pins its Debian packages"
    else
      not_ok "corec lock examples/$name pins its Debian packages" "$(cat "$WORK/$name.out")"
    fi
  elif contains "$WORK/$name.out" "no remote sources; nothing to lock" && [ ! -e "$dir/app.lock" ]; then
    ok "corec lock examples/$name: only local sources, no lock written"
  else
    not_ok "corec lock examples/$name: only local sources, no lock written" "$(cat "$WORK/$name.out")"
  fi
done

# Every example builds, from what the locks pinned, in every format, and each verifies. Only in
# the plain pass: the same code runs under the sanitizers in 56_disk_checks.sh. The four builds
# of an example run side by side (two cores), so this costs what two sequential builds would.
if [[ ${BUILD:-build} != *-san ]]; then
  for dir in "$WORK"/examples/*/; do
    name=$(basename "$dir")
    [ -f "$dir/app.yml" ] || continue
    for f in tim img qcow2 iso; do
      out=$WORK/$name.$f
      "$COREC" build --offline --quiet "$dir/app.yml" -o "$out" >"$out.digest" 2>"$out.err" &
    done
    wait
    for f in tim img qcow2 iso; do
      out=$WORK/$name.$f
      if [ -s "$out" ] && "$CORERUN" verify "$out" >"$out.verified" 2>>"$out.err" && cmp -s "$out.digest" "$out.verified"; then
        ok "examples/$name builds as $f and verifies"
      else
        not_ok "examples/$name builds as $f and verifies" "$(tail -3 "$out.err")"
      fi
      rm -f "$out"
    done
  done
fi

# A lock that cannot be read is an error, never "nothing to lock".
echo '{"version": 1, "sources": [' >"$WORK/examples/hello/app.lock"
if "$COREC" lock --quiet "$WORK/examples/hello/app.yml" >"$WORK/bad.out" 2>&1; then
  not_ok "an unreadable app.lock fails corec lock" "$(cat "$WORK/bad.out")"
else
  check "an unreadable app.lock fails corec lock, naming the file" contains "$WORK/bad.out" "app.lock' is not a valid lock file"
fi

[ "$n_failed" -eq 0 ]
