# Thin wrappers around the local-stack launcher (stack/) and the tests.
# The stack (and the worker, once started) runs in the background; `make down`
# stops both, `make wipe` deletes the data.

GO ?= go
# The determinism check for workflow code, pinned.
WORKFLOWCHECK ?= go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0

.PHONY: up down wipe status worker test demo

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
# non-determinism and runs every test against the stack.
test:
	$(GO) run ./stack up
	$(GO) run $(WORKFLOWCHECK) ./workflows/... ./saga/...
	$(GO) test -race -count=1 ./...

# The main job: bring the stack up, start a saga worker, run the demo.
# The stack and the worker stay up to explore (`make down` stops them).
demo:
	$(GO) run ./stack up
	$(GO) run ./stack worker
	$(GO) run ./starter demo
