# The session-sharing lab.  `make` (or `make help`) lists the targets.
# The settings (`make settings` lists them, with their defaults) are set on
# the command line or in the environment, which make hands to the launcher:
#   make up NODES=5 SESSION_STORE=memory PORT=9090 LOGIN_USER_TTL=60

NODE        ?=
FOLLOW      ?=
PYTEST_ARGS ?=

PY      := .venv/bin/python
CLUSTER := $(PY) -m scripts.cluster

.DEFAULT_GOAL := help
.PHONY: help settings setup setup-dev up try down status logs stop-node start-node restart rolling-restart clean
.PHONY: lint test chaos demo lesson loadtest loadtest-ui loadtest-compare compare bench bench-ab bench-instr failover

# A description fits in 100 columns beside the longest name (tests/unit/test_makefile.py).
help: ## this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s  %s\n", $$1, $$2}'

settings: ## every setting: variable, default, meaning
	@$(PY) -m scripts.cluster settings

setup: ## install what `make up` needs (apt packages, .venv)
	@bash scripts/setup.sh

setup-dev: ## install what `make test` needs as well, beside it
	@bash scripts/setup.sh --dev

up: setup ## start the cluster, or apply changed settings (make settings lists them)
	@$(CLUSTER) up

try: ## the seed's journey on the running cluster: SMS, login, /user/me per node
	@$(PY) -m scripts.walkthrough

down: ## stop everything `make up` started
	@if [ -x $(PY) ]; then $(CLUSTER) down; fi

status: ## processes, and whether each node is ready
	@$(CLUSTER) status

logs: ## last lines of every log (NODE=2 for one node, FOLLOW=1 to follow)
	@$(CLUSTER) logs $(if $(NODE),--node $(NODE)) $(if $(FOLLOW),--follow)

stop-node: ## stop one node: make stop-node NODE=2
	@$(CLUSTER) stop-node $(or $(NODE),$(error set NODE, e.g. make stop-node NODE=2))

start-node: ## start it again: make start-node NODE=2
	@$(CLUSTER) start-node $(or $(NODE),$(error set NODE, e.g. make start-node NODE=2))

restart: ## restart the nodes at once (after editing node/)
	@$(CLUSTER) restart

rolling-restart: ## restart the nodes one by one, each drained first: no request lost
	@$(CLUSTER) rolling-restart

clean: down ## stop, then delete the run dir (Postgres and Redis data included)
	@# Without the venv nothing can run: the run dir is only files (RUN_DIR's default is .run).
	@if [ -x $(PY) ]; then $(CLUSTER) clean; \
	  else rm -rf "$${RUN_DIR:-.run}" && echo "==> deleted $${RUN_DIR:-.run}"; fi

lint: setup-dev ## ruff and mypy
	@.venv/bin/ruff check node scripts tests loadtest
	@.venv/bin/ruff format --check node scripts tests loadtest
	@.venv/bin/mypy

test: setup-dev lint ## every test, the cluster tests included
	@.venv/bin/pytest $(PYTEST_ARGS)

# Empty by default: each load target has its own (chaos 30 users for 60 s,
# loadtest 20 users for 30 s).
USERS    ?=
DURATION ?=
STORES   ?= redis,memory
STRATEGIES ?= memory,sticky,replicated,redis

chaos: setup-dev ## load while Postgres hangs, a node dies, nodes restart, Redis dies: a table
	@$(PY) -m scripts.chaos --stores $(STORES) --users $(or $(USERS),30) --duration $(or $(DURATION),60)

demo: setup ## the seed's story in the terminal: the bug (memory), then the fix (Redis)
	@$(PY) -m scripts.demo

lesson: setup ## the seed's story, each mistake then its fix (STEP=n, LESSON_LANG=zh|en)
	@$(PY) -m scripts.lesson

SPAWN_RATE ?= 10

loadtest: setup-dev ## locust on the running cluster (USERS=20 SPAWN_RATE=10 DURATION=30)
	@$(PY) -m scripts.loadrun loadtest --users $(or $(USERS),20) --spawn-rate $(SPAWN_RATE) \
	  --duration $(or $(DURATION),30)

loadtest-ui: setup-dev ## locust's web UI on http://127.0.0.1:8089, against the running cluster
	@$(PY) -m scripts.loadrun ui

loadtest-compare: setup-dev ## one load on a redis-mode and a memory-mode cluster of its own, side by side
	@$(PY) -m scripts.loadrun compare --users $(or $(USERS),20) --duration $(or $(DURATION),30)

compare: setup-dev ## every strategy through the same load, node2 killed mid-run: one table
	@$(PY) -m scripts.compare --users $(or $(USERS),20) --duration $(or $(DURATION),30) \
	  --strategies $(STRATEGIES)

bench: setup-dev ## wrk on GET /user/me by mode, hop, Redis topology; logins/s; bytes a session
	@$(PY) -m scripts.bench $(BENCH_ARGS)

bench-instr: setup-dev ## instructions a request and a login, counted (callgrind); BEFORE= adds one
	@$(PY) -m scripts.bench_instr $(if $(BEFORE),--before $(BEFORE)) $(BENCH_INSTR_ARGS)

bench-ab: setup-dev ## one change: this checkout's node beside BEFORE's, CPU µs a request
	@$(PY) -m scripts.bench_ab --before $(or $(BEFORE),$(error set BEFORE, e.g. make bench-ab BEFORE=HEAD~1)) \
	  $(BENCH_AB_ARGS)

failover: setup-dev ## the Redis master stopped under users, on Sentinel and on Redis Cluster
	@$(PY) -m scripts.failover --users $(or $(USERS),20)
