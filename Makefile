# The two commands: `make run` (the demo) and `make test` (everything).
# Every tool a target needs is installed by the target itself.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
CACHE     := $(CURDIR)/.cache
SHARED    ?= $(abspath $(CURDIR)/../shared)
CHROMIUM  ?= /usr/bin/chromium
AXE_VERSION := 4.14.1
HTMX_VERSION := 2.0.11
HTMX_SHA256  := d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717
# The playwright driver must match the pinned playwright-go (its run.go says which).
# `go mod download -json` fetches the module first on a machine that has never built the project.
PW_VERSION = $(shell sed -n 's/^[[:space:]]*playwrightCliVersion[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' \
	"$$($(GO) mod download -json github.com/mxschmitt/playwright-go | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$$/\1/p')/run.go" | head -1)
PW_DIR     = $(CACHE)/playwright-driver/$(PW_VERSION)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

.PHONY: run
run: ## run the demo: the portal with fake Entra ID and fake VB365 (http://127.0.0.1:8080)
	$(GO) run ./cmd/portal -demo

.PHONY: build
build: ## build the portal into bin/portal
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/portal ./cmd/portal

.PHONY: test
test: e2e-deps pg-deps ## run every test, browser and PostgreSQL tests included (installs Chromium, the playwright driver and PostgreSQL if missing)
	E2E_REQUIRED=1 PG_REQUIRED=1 PLAYWRIGHT_DRIVER_PATH=$(PW_DIR) AXE_PATH=$(PW_DIR)/npm/node_modules/axe-core/axe.min.js \
		CHROMIUM_PATH=$(CHROMIUM) $(GO) test -race -timeout 20m ./...

.PHONY: e2e
e2e: e2e-deps pg-deps ## run the browser tests only
	E2E_REQUIRED=1 PG_REQUIRED=1 PLAYWRIGHT_DRIVER_PATH=$(PW_DIR) AXE_PATH=$(PW_DIR)/npm/node_modules/axe-core/axe.min.js \
		CHROMIUM_PATH=$(CHROMIUM) $(GO) test -count=1 -v ./e2e/

.PHONY: screenshots
screenshots: e2e-deps ## retake the README's screenshots (docs/*.png) from the browser journeys
	E2E_REQUIRED=1 E2E_SCREENSHOTS=$(or $(SHOTS),$(CURDIR)/docs) PLAYWRIGHT_DRIVER_PATH=$(PW_DIR) AXE_PATH=$(PW_DIR)/npm/node_modules/axe-core/axe.min.js \
		CHROMIUM_PATH=$(CHROMIUM) $(GO) test -count=1 -run 'TestAdeleRestoresTheMessageSheDeleted|TestRestoreIntoANewFolderMarkedUnread|TestMeganRestoresLastTuesdaysBudgetKeepingBoth|TestLeeRestoresADeletedListItemWithItsAttachment|TestAuditorFindsADownload|TestLeeRestoresForMeganFromTheRestoreList|TestLeeBrowsesATeam|TestNestorAdministersAzureBackupUsers' ./e2e/

.PHONY: pg-deps
pg-deps: ## install Debian's PostgreSQL server (the tests start throwaway clusters of their own; none is made or started here)
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then \
		echo "installing Debian's postgresql"; \
		if [ "$$(id -u)" -ne 0 ]; then echo "PostgreSQL is missing and installing it needs root: sudo apt-get install postgresql" >&2; exit 1; fi; \
		mkdir -p /etc/postgresql-common; \
		grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf || echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 apt-get install -y -qq \
			-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postgresql >/dev/null; \
	fi

.PHONY: e2e-deps
e2e-deps: ## install Debian's Chromium, npm playwright-core (the playwright-go driver) and axe-core
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "installing Debian's chromium"; \
		if [ "$$(id -u)" -ne 0 ]; then echo "Chromium is missing and installing it needs root: sudo apt-get install chromium" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@$(GO) mod download github.com/mxschmitt/playwright-go
	@test -n "$(PW_VERSION)" || { echo "cannot read the playwright driver version from playwright-go" >&2; exit 1; }
	@if ! grep -qs '"version": "$(PW_VERSION)"' "$(PW_DIR)/package/package.json" || [ ! -f "$(PW_DIR)/npm/node_modules/axe-core/axe.min.js" ]; then \
		echo "installing playwright-core@$(PW_VERSION) and axe-core@$(AXE_VERSION) into $(PW_DIR)"; \
		rm -rf "$(PW_DIR)"; mkdir -p "$(PW_DIR)/npm"; \
		PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$(PW_DIR)/npm" --no-audit --no-fund --save-exact --loglevel=error \
			"playwright-core@$(PW_VERSION)" "axe-core@$(AXE_VERSION)" >/dev/null; \
		ln -sfn npm/node_modules/playwright-core "$(PW_DIR)/package"; \
	fi
	@ln -sfn "$$(command -v node)" "$(PW_DIR)/node"
	@"$(PW_DIR)/node" "$(PW_DIR)/package/cli.js" --version >/dev/null

.PHONY: generate
generate: ## regenerate the *_templ.go files from the .templ templates, and the precompressed static files
	$(GO) tool templ generate
	$(GO) generate ./static

.PHONY: lint
lint: ## gofmt, go vet, staticcheck, generated files up to date, govulncheck against ../shared/govulndb
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@templ_sum() { find . -name '*_templ.go' -not -path './.cache/*' | sort | xargs cat | sha256sum; }; \
		before=$$(templ_sum); $(GO) tool templ generate >/dev/null 2>&1; \
		if [ "$$before" != "$$(templ_sum)" ]; then \
			echo "the generated templates were out of date; they are regenerated now: commit them"; git status --short -- '*_templ.go'; exit 1; fi
	@static_sum() { find static -name '*.gz' -o -name '*.br' | sort | xargs cat | sha256sum; }; \
		before=$$(static_sum); $(GO) generate ./static; \
		if [ "$$before" != "$$(static_sum)" ]; then \
			echo "the precompressed static files were out of date; they are regenerated now: commit them"; git status --short -- static; exit 1; fi
	@if [ -d "$(SHARED)/govulndb" ]; then \
		echo "govulncheck against the offline database $(SHARED)/govulndb: $$(ls $(SHARED)/govulndb | grep -c '^GO-') entries, newest $$(ls $(SHARED)/govulndb | grep '^GO-' | sort -V | tail -1 | sed 's/.json$$//') (its entries carry no dates)"; \
		$(GO) tool govulncheck -db "file://$(SHARED)/govulndb" ./...; \
	else echo "skipping govulncheck: $(SHARED)/govulndb is absent"; fi

.PHONY: bench
bench: pg-deps ## run the benchmarks (results and how to read them: BENCHMARKS.md)
	$(GO) test -run '^$$' -bench 'Render(Item|Document)Page|CompressPage' -benchmem ./handlers
	$(GO) test -run '^$$' -bench 'Decode' -benchmem ./veeamapi
	$(GO) test -run '^$$' -bench '^BenchmarkSideBySide$$' -benchtime 1500x ./cmd/portal # the portal against a bare reverse proxy
	$(GO) test -run '^$$' -bench 'DownloadSideBySide' -benchtime 1x ./cmd/portal # downloads: the portal against a bare reverse proxy
	$(GO) test -run '^$$' -bench 'Throughput' -benchtime 1000x ./cmd/portal # pages/s at c=8 and 32 against the fake alone
	$(GO) test -count=1 -v -run 'TestCompressedOnTheWire' ./cmd/portal | grep -E 'on the wire|^(ok|FAIL|---)' 
	$(GO) test -run '^$$' -bench 'PortalOverhead' -benchtime 3000x ./cmd/portal
	PG_REQUIRED=1 $(GO) test -run '^$$' -bench 'FolderPageByStore' -benchtime 3000x ./cmd/portal
	PG_REQUIRED=1 $(GO) test -run '^$$' -bench 'AuditTrail' -benchtime 20x ./store/postgres # export-1M: 20 exports of a million rows
	$(GO) test -run '^$$' -bench 'DownloadMemory' -benchtime 1x ./cmd/portal # also DownloadMemory8: eight at once

# FUZZTIME is how long each fuzz target runs: a minute by default, a few
# seconds in CI.
FUZZTIME ?= 60s

.PHONY: fuzz
fuzz: ## run every fuzz target (func Fuzz* in any *_test.go) for FUZZTIME each (default 60s)
	@targets=$$(grep -rlE --include='*_test.go' '^func Fuzz' . | grep -v '^./.cache/' | sort | while read -r f; do \
		for n in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f"); do echo "./$$(dirname "$${f#./}"):$$n"; done; done); \
	test -n "$$targets" || { echo "no fuzz targets found" >&2; exit 1; }; \
	for t in $$targets; do \
		echo "== $${t##*:} in $${t%%:*} for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}" 2>&1 | grep -v '^fuzz: elapsed' ; \
		test "$${PIPESTATUS[0]}" -eq 0 || exit 1; \
	done

.PHONY: vendor
vendor: ## refresh static/js/htmx.min.js from npm (version and checksum pinned above)
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
		(cd $$tmp && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null && tar xzf htmx.org-$(HTMX_VERSION).tgz); \
		echo "$(HTMX_SHA256)  $$tmp/package/dist/htmx.min.js" | sha256sum -c --quiet; \
		cp $$tmp/package/dist/htmx.min.js static/js/htmx.min.js; echo "static/js/htmx.min.js is htmx $(HTMX_VERSION)"
	$(GO) generate ./static

.PHONY: clean
clean: ## remove build output and caches (the demo's data directory too)
	rm -rf bin $(CACHE) data
