#!/bin/sh
# The Temporal namespace the saga worker uses, for docker-compose.yml's
# one-shot temporal-setup service (temporalio/admin-tools), once the server is
# healthy: creates the namespace when it is missing, then registers the saga's
# custom search attributes, all of type Keyword. Safe to run again: an
# existing namespace is kept and the server skips attributes it has.
#
# Environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, SEARCH_ATTRIBUTES (names
# separated by spaces), NAMESPACE_RETENTION (default 72h).
set -eu

: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}" "${SEARCH_ATTRIBUTES:?}"
retention="${NAMESPACE_RETENTION:-72h}"
attempts=60

# retry CMD...: runs CMD until it succeeds, at most $attempts times, a second
# apart: a new namespace takes a few seconds to reach every service's cache.
retry() {
	i=1
	until "$@"; do
		if [ "$i" -ge "$attempts" ]; then
			echo "gave up after $attempts attempts: $*" >&2
			return 1
		fi
		i=$((i + 1))
		sleep 1
	done
}

operator() {
	temporal operator --address "$TEMPORAL_ADDRESS" "$@"
}

# ensure_namespace creates the namespace unless it exists; a create that
# races another one fails, and the next attempt finds the namespace.
ensure_namespace() {
	if operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
		return 0
	fi
	operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$retention"
}

# has_attributes: whether the namespace lists every search attribute.
has_attributes() {
	listed=$(operator search-attribute list --namespace "$TEMPORAL_NAMESPACE") || return 1
	for name in $SEARCH_ATTRIBUTES; do
		printf '%s\n' "$listed" | grep -qw -- "$name" || return 1
	done
}

retry ensure_namespace
echo "namespace $TEMPORAL_NAMESPACE ready"

set --
for name in $SEARCH_ATTRIBUTES; do
	set -- "$@" --name "$name" --type Keyword
done
retry operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" "$@"
retry has_attributes
echo "search attributes registered: $SEARCH_ATTRIBUTES"
