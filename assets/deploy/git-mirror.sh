#!/bin/sh
# Keep a bare mirror of $GIT_REPO at $MIRROR (every branch, promotion and approval note),
# fetched every $GIT_PERIOD seconds, for tollgate reconcile to read from a shared volume.
# Credentials come from the Secret mounted at $GIT_SECRET_DIR:
#   ssh + known_hosts      for git@host:org/repo.git URLs
#   git-credentials        for https:// URLs (lines like https://user:token@github.com)
# ONCE=1 fetches once and exits (for tests and init containers).
set -eu

MIRROR="${MIRROR:-/git/env.git}"
GIT_PERIOD="${GIT_PERIOD:-30}"
GIT_SECRET_DIR="${GIT_SECRET_DIR:-/etc/git-secret}"
export HOME="${HOME:-/tmp}"

if [ -f "$GIT_SECRET_DIR/ssh" ]; then
    export GIT_SSH_COMMAND="ssh -i $GIT_SECRET_DIR/ssh -o IdentitiesOnly=yes -o UserKnownHostsFile=$GIT_SECRET_DIR/known_hosts"
fi
if [ -f "$GIT_SECRET_DIR/git-credentials" ]; then
    git config --global credential.helper "store --file=$GIT_SECRET_DIR/git-credentials"
fi

if [ ! -d "$MIRROR" ]; then
    # Clone next to it and move into place: a reader never sees half a repository.
    rm -rf "$MIRROR.tmp"
    git clone --mirror --quiet "$GIT_REPO" "$MIRROR.tmp"
    mv "$MIRROR.tmp" "$MIRROR"
    echo "mirrored $GIT_REPO into $MIRROR"
fi

while true; do
    if git -C "$MIRROR" remote update --prune >/dev/null 2>&1; then
        echo "fetched $(git -C "$MIRROR" rev-parse --short HEAD 2>/dev/null || echo '?') at $(date -u +%FT%TZ)"
    else
        echo "fetch from $GIT_REPO failed; trying again in ${GIT_PERIOD}s" >&2
    fi
    [ "${ONCE:-}" = 1 ] && exit 0
    sleep "$GIT_PERIOD"
done
