# Thin wrappers around the local-stack launcher (stack/) and the tests.
# The stack (and the worker, once started) runs in the background; `make down`
# stops both, `make wipe` deletes the data.

GO ?= go
# The short fault-injection run that `make test` ends with (CI runs it too).
CHAOS_SHORT ?= --orders 150 --concurrency 16 --kills 12 --terms 2 --postgres-outages 1 --ferretdb-outages 1 --temporal-restarts 1 --projector-kills 2 --projector-pauses 1 --partitions 3 --projector-partitions 1 --ambiguous 0.1 --seed 7
# Arguments of `make chaos` (the full run's defaults are in chaos/run.go).
CHAOS_ARGS ?=
# Arguments of `make bench` (go run ./bench --help; --docs refreshes docs/bench/).
BENCH_ARGS ?=
# Arguments of `make scale` (go run ./bench scale --help; --docs refreshes docs/bench/scale.*).
SCALE_ARGS ?=
# The determinism check for workflow code, pinned.
WORKFLOWCHECK ?= go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0
# The mutation tester of `make mutate`, pinned, built into .tools/bin.
GREMLINS ?= github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
# The packages `make mutate` mutates (their tests need no server), those
# whose efficacy must reach MUTATE_THRESHOLD percent, and more arguments of
# go run ./mutate (--workers, --timeout-coefficient, --keep).
MUTATE_PKGS ?= saga workflows
MUTATE_GATED ?= saga workflows
MUTATE_THRESHOLD ?= 90
MUTATE_ARGS ?=

.PHONY: up down wipe status worker test demo chaos bench scale mutate

up:
	$(GO) run ./stack up

down:
	$(GO) run ./stack down

wipe:
	$(GO) run ./stack wipe

status:
	$(GO) run ./stack status

# Starts the saga worker in the background against the running stack.
worker:
	$(GO) run ./stack worker

# Brings the stack up (and leaves it up), checks the workflow code for
# non-determinism, runs every test against the stack: the application's,
# the saga engine's and the worked example's (saga/ and examples/, modules
# of their own, read the stack's addresses from `stack env`), and the
# FerretDB runner's (a module of its own too); then the short
# fault-injection run (it restarts the servers, so it runs last).
test:
	$(GO) run ./stack up
	$(GO) run $(WORKFLOWCHECK) ./workflows/... ./internal/upgradedrill/...
	cd saga && $(GO) run $(WORKFLOWCHECK) ./...
	cd examples && $(GO) run $(WORKFLOWCHECK) ./...
	$(GO) test -race -count=1 ./...
	vars="$$($(GO) run ./stack env)" && env $$vars sh -c 'cd saga && $(GO) test -race -count=1 ./... && cd ../examples && $(GO) test -race -count=1 ./...'
	cd stack/ferretdb && $(GO) test -count=1 ./...
	$(GO) run ./chaos $(CHAOS_SHORT)

# The full fault-injection run: 1000 sagas, 50 worker SIGKILLs, two outages
# of each database, a Temporal restart, 10% ambiguous commits.
chaos:
	$(GO) run ./chaos $(CHAOS_ARGS)

# The main job: bring the stack up, start a saga worker, run the demo.
# The stack and the worker stay up to explore (`make down` stops them).
demo:
	$(GO) run ./stack up
	$(GO) run ./stack worker
	$(GO) run ./starter demo

# The benchmarks, side by side in one run on the local stack: the saga, bare
# Temporal with the same steps, the database floor and a lock-holding
# baseline; a table, .data/bench/<run>.json and .png (about 10 minutes).
bench:
	$(GO) run ./bench $(BENCH_ARGS)

# The saga and each store operation as the stores grow from empty to 1,000,000 orders.
scale:
	$(GO) run ./bench scale $(SCALE_ARGS)

# Mutation testing (not part of `make test`): gremlins changes one operator
# at a time in MUTATE_PKGS and runs the package's tests without the stack
# (SAGAFLOW_SERVER_FREE_TESTS); it prints each package's efficacy (mutants
# killed / tested) and the mutants that lived, and fails below
# MUTATE_THRESHOLD% for MUTATE_GATED. About 10 minutes on 2 cores.
mutate:
	GOBIN=$(CURDIR)/.tools/bin $(GO) install $(GREMLINS)
	$(GO) run ./mutate --gremlins .tools/bin/gremlins --gate "$(MUTATE_GATED)" --threshold $(MUTATE_THRESHOLD) $(MUTATE_ARGS) $(MUTATE_PKGS)
