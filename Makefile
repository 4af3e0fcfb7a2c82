# Thin wrappers around the local-stack launcher (stack/) and the tests.
# The stack runs in the background; `make down` stops it, `make wipe` deletes its data.

GO ?= go

.PHONY: up down wipe status test demo

up:
	$(GO) run ./stack up

down:
	$(GO) run ./stack down

wipe:
	$(GO) run ./stack wipe

status:
	$(GO) run ./stack status

# Brings the stack up (and leaves it up) and runs every test against it.
test:
	$(GO) run ./stack up
	$(GO) test -race -count=1 ./...

# The main job. For now: bring the stack up, seed the demo data, check the stores.
demo:
	$(GO) run ./stack up
	$(GO) run ./starter seed
	$(GO) run ./starter verify
