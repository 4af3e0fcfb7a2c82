# Thin wrappers around the local-stack launcher (stack/) and the tests.
# The stack (and the worker, once started) runs in the background; `make down`
# stops both, `make wipe` deletes the data.

GO ?= go

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

# Brings the stack up (and leaves it up) and runs every test against it.
test:
	$(GO) run ./stack up
	$(GO) test -race -count=1 ./...

# The main job: bring the stack up, start a saga worker, run the demo.
# The stack and the worker stay up to explore (`make down` stops them).
demo:
	$(GO) run ./stack up
	$(GO) run ./stack worker
	$(GO) run ./starter demo
