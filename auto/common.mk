# Shared flags for every Makefile in the tree.  Included with ROOT set to the repo root.
B        ?= $(ROOT)/build
CC       ?= cc
OPT      ?= -O2 -g
CSTD     ?= -std=gnu11
WARN     := -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -I$(ROOT)/modules/common -I$(ROOT)/modules/recstore
CFLAGS   += $(CSTD) $(OPT) $(WARN) -fno-strict-aliasing -MMD -MP
ifeq ($(VMS_SANITIZE),1)
# ASan does not see reads of uninitialised stack variables; filling them with
# a pattern makes such a read (a pointer from stack garbage) fail on every
# run, not only when a thread happens to reuse a dirty stack.
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
            -ftrivial-auto-var-init=pattern
LDFLAGS  += -fsanitize=address,undefined
endif
ifeq ($(VMS_COVERAGE),1)
# gcov counters (gcovr reads them after the tests: tests/tools/coverage.py); atomic updates, since
# vmsd and the thread pool count from several threads.  -fprofile-abs-path: make -C sidecar compiles
# "ingest/camera.c", and gcov could not find such a relative source from the object directory
# (gcovr left every file only vmsd compiles, camera.c, main.c..., out of the report)
CFLAGS   += --coverage -fprofile-update=atomic -fprofile-abs-path
LDFLAGS  += --coverage
endif
pc_cflags = $(shell pkg-config --cflags $(1))
pc_libs   = $(shell pkg-config --libs $(1))
# Every link writes a temporary file and renames it over its target:  $(CC) ... -o $(LINK_TMP) ... && $(LINK_DONE).
# A running process (an nginx with a module loaded, a vmsd) keeps the old inode instead of seeing its
# file rewritten under it, and an interrupted link leaves no half-written target.
LINK_TMP  = $@.tmp
LINK_DONE = mv -f $@.tmp $@

# vmsd's source folders under sidecar/ (docs/vmsd.md "Source layout"); every one is on the include
# path of vmsd's sources and of the unit and fuzz tests that build them.
VMSD_DIRS := base api ingest record sinks analysis cluster
SIDECAR_INC = $(addprefix -I$(ROOT)/sidecar/,. $(VMSD_DIRS))

# The recording store (modules/recstore, docs/recording.md "Recording store"): the index reader and
# writer, segment path templates and the MP4 scanner.  vmsd, vms-index and vms_playback link it as
# $(B)/lib/librecstore.a (modules/Makefile); unit and fuzz tests compile these sources themselves.
RECSTORE_SRCS := $(patsubst $(ROOT)/%,%,$(sort $(wildcard $(ROOT)/modules/recstore/*.c)))
