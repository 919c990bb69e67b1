# polsnap - build, test, serve and measure. `make help` lists the targets.
CC      ?= cc
CFLAGS  ?= -O2 -g
BUILD   ?= build$(if $(SAN),-san)
BIN     ?= $(if $(SAN),$(BUILD)/bin,bin)
POLSNAP_DATA ?= $(CURDIR)/data
POLSNAP_PORT ?= 8080
# snprintf cutting a long message short is deliberate, hence -Wno-format-truncation
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla -Wno-format-truncation
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SANFLAGS := $(if $(SAN),$(SANITIZE))
ALL_CFLAGS := $(WARN) -D_GNU_SOURCE -Icommon -Isnapshot -Icgi $(CFLAGS) $(SANFLAGS) -MMD -MP
LDLIBS  := -lfcgi -lcjson -lyaml -lcurl -lcrypto -lz
# make install: PREFIX for programs and data files; configuration in /etc, state in /var;
# NOUSER=1: no polsnap user, the directories stay the installer's (as with DESTDIR).
PREFIX  ?= /usr/local
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
UNITDIR ?= $(PREFIX)/lib/systemd/system
DIRS    := DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' SYSCONFDIR='$(SYSCONFDIR)' \
           LOCALSTATEDIR='$(LOCALSTATEDIR)' UNITDIR='$(UNITDIR)' NOUSER='$(NOUSER)'
export POLSNAP_BIN := $(abspath $(BIN))

objs = $(patsubst %.c,$(BUILD)/%.o,$(1))
COMMON := $(call objs,$(wildcard common/*.c))
SNAP   := $(call objs,$(filter-out snapshot/main.c,$(wildcard snapshot/*.c)))
CGI    := $(call objs,$(filter-out cgi/main.c,$(wildcard cgi/*.c)))
UNIT   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

.PHONY: all help deps run serve test bench fuzz lint format clean install uninstall deb image
.SECONDARY:
all: $(BIN)/polsnap-snapshot $(BIN)/polsnap-fcgi $(BIN)/polsnap-report

help:
	@echo "make            build $(BIN)/polsnap-snapshot, $(BIN)/polsnap-report and $(BIN)/polsnap-fcgi"
	@echo "make deps       install the Debian and npm packages the build and tests need"
	@echo "make run        deps + build + snapshot samples/ + serve on http://127.0.0.1:$(POLSNAP_PORT)"
	@echo "make serve      run lighttpd in the foreground (POLSNAP_DATA=DIR POLSNAP_PORT=PORT)"
	@echo "make test       the whole suite (SAN=1: under ASan+UBSan); ends 'N passed, N failed'"
	@echo "make bench      throughput and memory against reference servers (bench/)"
	@echo "make install    install under PREFIX=$(PREFIX) (DESTDIR=...); make uninstall"
	@echo "make deb        build/deb/polsnap_VERSION_ARCH.deb; make image: the container image"
	@echo "make fuzz       every libFuzzer harness in tests/fuzz/ (FUZZ_SECONDS=60 each; needs clang)"
	@echo "make lint       cppcheck and clang-tidy; make format applies .clang-format"
	@echo "make clean      remove build outputs"

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BIN)/polsnap-snapshot: $(BUILD)/snapshot/main.o $(SNAP) $(COMMON)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BIN)/polsnap-report: $(BUILD)/report/main.o $(SNAP) $(COMMON)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BIN)/polsnap-fcgi: $(BUILD)/cgi/main.o $(CGI) $(COMMON)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(SNAP) $(CGI) $(COMMON)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS)

deps:
	@tools/deps test

run:
	@tools/deps run
	@$(MAKE) --no-print-directory all
	$(BIN)/polsnap-snapshot --source files:samples --data $(POLSNAP_DATA)
	@echo "serving http://127.0.0.1:$(POLSNAP_PORT)/ (API under /v1, metrics at /metrics); Ctrl-C stops"
	@$(MAKE) --no-print-directory serve

serve: all
	POLSNAP_ROOT=$(CURDIR) POLSNAP_DATA=$(abspath $(POLSNAP_DATA)) POLSNAP_PORT=$(POLSNAP_PORT) \
	  POLSNAP_FCGI=$(POLSNAP_BIN)/polsnap-fcgi lighttpd -D -f lighttpd.conf

test:
	@tools/deps test
	@$(MAKE) --no-print-directory all $(UNIT)
	@tests/run $(UNIT)

install: all ; @$(DIRS) deploy/install.sh install $(BIN)
uninstall: ; @$(DIRS) deploy/install.sh uninstall
deb: ; @deploy/deb.sh
image: ; @deploy/image.sh

bench: all
	@bench/run

fuzz: all
	@tests/fuzz/run

lint: compile_commands.json
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 --inline-suppr \
	  --suppress=missingIncludeSystem --include=tests/cppcheck.h -Icommon -Isnapshot -Icgi common snapshot cgi report tests/unit
	clang-tidy --quiet -p . --extra-arg=-Wno-unknown-warning-option $(wildcard common/*.c snapshot/*.c cgi/*.c report/*.c)

compile_commands.json: $(wildcard common/*.c snapshot/*.c cgi/*.c report/*.c) Makefile
	bear --output $@ -- $(MAKE) --no-print-directory -B BUILD=build/compdb BIN=build/compdb/bin all

format:
	clang-format -i $(wildcard common/*.[ch] snapshot/*.[ch] cgi/*.[ch] report/*.c tests/unit/*.[ch] tests/fuzz/*.c bench/*.c)

clean:
	rm -rf build build-san bin compile_commands.json

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
