#!/usr/bin/env bash
# Runs a command with the services the blog's tests need, then stops them, also on failure:
#
#   examples/blog/scripts/with-services.sh cargo test --workspace
#
# * installs what is missing (`apt-get install -y postgresql chromium chromium-driver`, as root,
#   only when absent);
# * starts a throwaway PostgreSQL cluster in a temporary folder on a free port, and exports
#   BLOG_TEST_POSTGRES=postgres://postgres@127.0.0.1:PORT/postgres;
# * exports CHROMEDRIVER and CHROMIUM, the paths the browser test starts.
#
# A blog test that needs PostgreSQL or Chromium and finds these variables unset fails with a
# message naming this script.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

missing=()
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || missing+=(postgresql)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "with-services.sh: ${missing[*]} missing; install them as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

dir=$(mktemp -d /tmp/blog-services.XXXXXX)
chmod 755 "$dir"
cleanup() {
  bash "$here/pg-cluster.sh" stop "$dir/pg" || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(free_port)
started=$SECONDS
bash "$here/pg-cluster.sh" start "$dir/pg" "$port"
echo "== PostgreSQL on 127.0.0.1:$port (started in $((SECONDS - started)) s)"
export BLOG_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
CHROMEDRIVER=$(command -v chromedriver)
CHROMIUM=$(command -v chromium)
export CHROMEDRIVER CHROMIUM

"$@"
