#!/bin/sh
# Container entrypoint: check the mounted config and cache volume, then run one wirearchive
# command, passing SIGTERM/SIGINT on so a stopped container ends its crawl gracefully.
#
#   WIREARCHIVE_CONFIG       the sources.yaml (default /config/sources.yaml)
#   XDG_CACHE_HOME           the cache volume (default /cache): the spool and the S3 index cache
#   WIREARCHIVE_LOCKED_EXIT  the status to exit with when another run holds the archive lock
#                            (default 75; 0 suits schedulers that retry every failure)
set -u

config="${WIREARCHIVE_CONFIG:-/config/sources.yaml}"
cache="${XDG_CACHE_HOME:-/cache}"
locked_exit="${WIREARCHIVE_LOCKED_EXIT:-75}"
EXIT_LOCKED=75

fail() {
    echo "docker-entrypoint: $1" >&2
    exit 1
}

[ "$#" -gt 0 ] || set -- crawl
case "$1" in
    # Commands that read no sources.yaml.
    demo | eval-extraction | -h | --help | --version) exec wirearchive "$@" ;;
esac
case "$locked_exit" in
    '' | *[!0-9]*) fail "WIREARCHIVE_LOCKED_EXIT must be a number, not '$locked_exit'" ;;
esac
[ -f "$config" ] || fail "no config at $config: mount your sources.yaml there \
(-v \"\$PWD/sources.yaml:$config:ro\") or set WIREARCHIVE_CONFIG"
if ! mkdir -p "$cache/wirearchive" 2>/dev/null || ! [ -w "$cache/wirearchive" ]; then
    fail "cache $cache is not writable: mount a volume there (-v wirearchive-cache:$cache); \
it keeps the spool and the S3 index cache between runs"
fi
export XDG_CACHE_HOME="$cache"
cd "$(dirname "$config")" || fail "cannot enter the config's folder $(dirname "$config")"

command="$1"
shift
case " $* " in
    *" --config "* | *" --config="*) ;;
    *) set -- --config "$config" "$@" ;;
esac

wirearchive "$command" "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM
trap 'kill -INT "$child" 2>/dev/null' INT
wait "$child"
status=$?
# A trapped signal ends `wait` early: wait again until the crawl has really stopped.
while kill -0 "$child" 2>/dev/null; do
    wait "$child"
    status=$?
done

if [ "$status" -eq "$EXIT_LOCKED" ] && [ "$locked_exit" -ne "$EXIT_LOCKED" ]; then
    echo "docker-entrypoint: another run holds the archive lock; exiting $locked_exit" >&2
    exit "$locked_exit"
fi
exit "$status"
