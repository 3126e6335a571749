# Akhbar — every entry point. `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DB ?= archive.db
PORT ?= 8001
DEMO_PORT ?= 8101
OUT ?= archive.warc.gz
ARGS ?=
DEMO_SITES := tests/fixtures/sites/alwaha tests/fixtures/sites/sahil tests/fixtures/sites/mashriq
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install system-deps demo test crawl serve reextract warc eval bench bench-quick clean

install: $(VENV)/.installed

# The lock pins the whole tree that was tested; requirements.in says why each direct dependency is there.
$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.lock
	touch $@

# Debian packages the tests drive for real: Chromium (what a reader sees), Redis (scale-out).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

test: install system-deps
	$(PY) -m pytest -q -p no:cacheprovider tests

# Serve the bundled fictional outlets on 127.0.0.1, crawl them into $(DB), publish with Datasette.
demo: install
	@mkdir -p var
	@$(PY) -m tests.sites serve --port $(DEMO_PORT) --registry var/demo-sources.yml $(DEMO_SITES) > var/demo-sites.log 2>&1 & \
	  echo $$! > var/demo-sites.pid; sleep 2; \
	  trap 'kill $$(cat var/demo-sites.pid) 2>/dev/null' EXIT; \
	  rm -f $(DB) $(DB)-wal $(DB)-shm; \
	  $(VENV)/bin/scrapy crawl news -a seeds=var/demo-sources.yml -s ARCHIVE_DB=$(DB) \
	    -s DOWNLOAD_DELAY=0 -s AUTOTHROTTLE_ENABLED=0 -s DOWNLOAD_TIMEOUT=5 -s RETRY_TIMES=1 -s LOG_LEVEL=WARNING; \
	  kill $$(cat var/demo-sites.pid) 2>/dev/null; \
	  $(MAKE) --no-print-directory serve DB=$(DB) PORT=$(PORT)

# The live crawl of every outlet in seeds/sources.yml. Scrapy's log is appended to $(CRAWL_LOG)
# (deploy/logrotate/akhbar rotates it); `make crawl CRAWL_LOG=` logs to stderr instead (systemd's journal).
# A crawl already writing $(DB) makes this one exit at once with status 2, saying so on stderr and in the log.
CRAWL_LOG ?= var/log/crawl.log
crawl: install
	@$(if $(CRAWL_LOG),mkdir -p $(dir $(CRAWL_LOG)),true)
	$(VENV)/bin/scrapy crawl news -s ARCHIVE_DB=$(DB) $(if $(CRAWL_LOG),-s LOG_FILE=$(CRAWL_LOG))

# Publish an existing archive.
serve: install
	PYTHONPATH=$(CURDIR) bash publish/serve.sh $(DB) $(PORT)

# Re-extract every article of $(DB) from its stored capture with the current code (offline).
# ARGS passes options, e.g. ARGS="--source hespress --since 2025-01-01".
reextract: install
	$(PY) -m pipelines.reextract $(DB) $(ARGS)

# Export the captures of $(DB) as WARC 1.1 into $(OUT); ARGS="--source ID" for one outlet.
warc: install
	$(PY) -m pipelines.warc $(DB) $(OUT) $(ARGS)

eval: install
	$(PY) bench/eval_corpus.py

# Benchmarks (bench/README.md): story grouping, the real crawl over a generated local site, scale-out over
# Redis, search at ARTICLES articles (built once under var/bench-search/, reruns reuse it), and the cost of
# the project's extraction over bare trafilatura on the real pages of ../shared/corpus when present.
# `make bench PAGES=N ARTICLES=N`; `make bench-quick` for small sizes. Each script prints its own table.
PAGES ?= 5000
ARTICLES ?= 1000000
bench: install system-deps
	$(PY) bench/bench_dedup.py
	$(PY) bench/bench_crawl.py --pages $(PAGES) --json var/bench-crawl.json
	$(PY) bench/crawler_layers.py --pages $(PAGES)
	$(PY) bench/bench_scaleout.py
	$(PY) bench/bench_search.py --articles $(ARTICLES) --json var/bench-search.json
	@if [ -d ../shared/corpus ]; then $(PY) bench/eval_corpus.py --timing --reps 3 | sed -n '/CPU ms\/page/,$$p'; fi

bench-quick: install system-deps
	$(PY) bench/bench_crawl.py --pages 500 --sample 30
	$(PY) bench/crawler_layers.py --pages 500 --runs 1
	$(PY) bench/bench_scaleout.py --pages 200 --delay 0
	$(PY) bench/bench_search.py --articles 20000 --writer-sample 500 --runs 1

clean:
	rm -rf var artifacts .pytest_cache
