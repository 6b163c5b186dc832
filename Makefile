# The session-sharing lab.  `make` (or `make help`) lists the targets.
# Every variable below can be set on the command line or in the environment:
#   make up NODES=5 SESSION_STORE=memory PORT=9090

NODES          ?= 3
PORT           ?= 8080
NODE_BASE_PORT ?= 8081
SESSION_STORE  ?= redis
BALANCE        ?= round_robin
REPLICATION_DELAY_MS ?= 0
REDIS_PORT     ?= 16379
PG_PORT        ?= 15432
REDIS_URL      ?=
REDIS_TOPOLOGY ?= single
DATABASE_URL   ?=
SMS_OUTBOX     ?= on
LOGIN_RATE     ?= 20r/s
RUN_DIR        ?= .run
NODE           ?=
FOLLOW         ?=
PYTEST_ARGS    ?=

PY      := .venv/bin/python
CLUSTER := $(PY) -m scripts.cluster --run-dir $(RUN_DIR)

.DEFAULT_GOAL := help
.PHONY: help setup setup-dev up down status logs stop-node start-node restart rolling-restart clean lint test chaos demo loadtest loadtest-ui loadtest-compare compare bench failover

help: ## this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## install what `make up` needs (apt packages, .venv)
	@bash scripts/setup.sh

setup-dev: ## install what `make test` needs as well
	@bash scripts/setup.sh --dev

up: setup ## start the cluster (NODES, PORT, SESSION_STORE=redis|memory|replicated, BALANCE=round_robin|sticky, REDIS_TOPOLOGY=single|sentinel|cluster, ...)
	@$(CLUSTER) up --nodes $(NODES) --port $(PORT) --node-base-port $(NODE_BASE_PORT) \
	  --redis-port $(REDIS_PORT) --pg-port $(PG_PORT) --session-store $(SESSION_STORE) \
	  --redis-url "$(REDIS_URL)" --database-url "$(DATABASE_URL)" --sms-outbox $(SMS_OUTBOX) \
	  --login-rate $(LOGIN_RATE) --balance $(BALANCE) --replication-delay-ms $(REPLICATION_DELAY_MS) \
	  --redis-topology $(REDIS_TOPOLOGY)

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

rolling-restart: ## restart the nodes one by one, each drained from nginx first: no request lost
	@$(CLUSTER) rolling-restart

clean: down ## stop, then delete .run/ (Postgres and Redis data included)
	@if [ -x $(PY) ]; then $(CLUSTER) clean; else rm -rf $(RUN_DIR); fi

lint: setup-dev ## ruff and mypy
	@.venv/bin/ruff check node scripts tests
	@.venv/bin/ruff format --check node scripts tests
	@.venv/bin/mypy

test: setup-dev lint ## every test, the cluster tests included
	@.venv/bin/pytest $(PYTEST_ARGS)

# Empty by default: each load target has its own (chaos 30 users for 60 s,
# loadtest 20 users for 30 s).
USERS    ?=
DURATION ?=
STORES   ?= redis,memory
STRATEGIES ?= memory,sticky,replicated,redis

chaos: setup-dev ## users keep going while a node, every node in turn and Redis are killed; prints a table (own throwaway clusters)
	@$(PY) -m scripts.chaos --stores $(STORES) --users $(or $(USERS),30) --duration $(or $(DURATION),60) \
	  --nodes $(NODES)

demo: setup ## the seed's story in the terminal: the bug (memory), then the fix (Redis), on a throwaway cluster
	@$(PY) -m scripts.demo

SPAWN_RATE ?= 10

loadtest: setup-dev ## locust against the running cluster: USERS=20 SPAWN_RATE=10 DURATION=30; report in reports/
	@$(PY) -m scripts.loadrun loadtest --host http://127.0.0.1:$(PORT) --users $(or $(USERS),20) \
	  --spawn-rate $(SPAWN_RATE) --duration $(or $(DURATION),30)

loadtest-ui: setup-dev ## locust's web UI on http://127.0.0.1:8089, against the running cluster
	@.venv/bin/locust -f loadtest/locustfile.py --host http://127.0.0.1:$(PORT) --web-host 127.0.0.1

loadtest-compare: setup-dev ## the same load on a redis-mode and a memory-mode cluster (own throwaway ones), side by side
	@$(PY) -m scripts.loadrun compare --users $(or $(USERS),20) --duration $(or $(DURATION),30) --nodes $(NODES)

compare: setup-dev ## every strategy (in-process, sticky, replicated, Redis), same load, node2 killed mid-run: one table
	@$(PY) -m scripts.compare --users $(or $(USERS),20) --duration $(or $(DURATION),30) --nodes $(NODES) \
	  --strategies $(STRATEGIES)

bench: setup-dev ## wrk on GET /user/me: bare handler, memory and redis mode, direct and through nginx, each Redis topology; login rate; Redis bytes a session
	@$(PY) -m scripts.bench --nodes $(NODES) $(BENCH_ARGS)

failover: setup-dev ## the Redis master stopped under users, on Sentinel and on Redis Cluster (own throwaway clusters): error window, sessions kept
	@$(PY) -m scripts.failover --users $(or $(USERS),20) --nodes $(NODES)
