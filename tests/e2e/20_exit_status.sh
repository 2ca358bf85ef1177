# The guest main command's exit status comes through corerun: all 8 bits, signals as 128+N,
# and "-- CMD" replaces the main command.
. "$(dirname "$0")/lib.sh"
tim=$(hello_tim) || { not_ok "build hello"; exit 1; }

for status in 0 1 42 255; do
  "$CORERUN" -q "$tim" -- sh -c "exit $status" >"$WORK/out" 2>&1
  rc=$?
  if [ "$rc" = "$status" ]; then ok "exit status $status comes through"; else not_ok "exit status $status comes through" "got $rc" "$(tail -5 "$WORK/out")"; fi
done

"$CORERUN" -q "$tim" -- sh -c 'kill -9 $$' >"$WORK/out" 2>&1
rc=$?
check "a main command killed by SIGKILL gives 137" test "$rc" = 137
check "the console names the signal" contains "$WORK/out" "killed by signal 9"

"$CORERUN" -q "$tim" -- /bin/no-such-command >"$WORK/out" 2>&1
rc=$?
check "a missing command gives 127" test "$rc" = 127
check "coreinit names the missing command" contains "$WORK/out" "/bin/no-such-command"

"$CORERUN" -q "$tim" -- sh -c 'echo "arg:[$0] [$1]"' 'a b' 'c"d' >"$WORK/out" 2>&1
check "arguments with spaces and quotes arrive intact" contains "$WORK/out" 'arg:[a b] [c"d]'
finish
