// Package deploy holds the files that docker-compose.yml mounts into its
// containers (PostgreSQL's init script, Temporal's setup scripts and dynamic
// config) and, in its tests, the checks of the deployment: the compose file
// against the Docker conventions it promises, the Dockerfile's builds, and
// the scripts against real servers where this machine has them.
package deploy
