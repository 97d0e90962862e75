#!/bin/sh
# The demo's request counter: `start URL` requests URL every 50 ms in the
# background for 10 minutes, noting each status code; `show` prints the
# count and the failures for a few seconds and fails if any request did.
# It keeps its files in .golive/requests (make demo-clean stops it).
set -eu
dir=.golive/requests
case "${1:-}" in
start)
	mkdir -p "$dir"
	[ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true # the counter of an earlier run
	: >"$dir/codes"
	end=$(($(date +%s) + 600))
	(while [ "$(date +%s)" -lt "$end" ]; do
		curl -s -o /dev/null -m 2 -w '%{http_code}\n' "$2" >>"$dir/codes" || true
		sleep 0.05
	done) </dev/null >/dev/null 2>&1 &
	echo $! >"$dir/pid"
	echo "counting requests to $2 every 50 ms for 10 minutes"
	;;
show)
	for _ in 1 2 3 4 5; do
		total=$(wc -l <"$dir/codes")
		failed=$(grep -vc '^200$' "$dir/codes" || true)
		echo "$total requests through the proxy, $failed failed"
		sleep 1
	done
	[ "$failed" -eq 0 ]
	;;
*)
	echo "usage: requests.sh start URL | show" >&2
	exit 2
	;;
esac
