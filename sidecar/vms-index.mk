# vms-index CLI (owned by playback): included by sidecar/Makefile, which sets ROOT and B
# through auto/common.mk.  Adds $(B)/bin/vms-index to `all` without changing the default goal.
vms_index_goal := $(.DEFAULT_GOAL)
VMS_INDEX_SRCS := $(ROOT)/modules/playback/cli/vms_index_cli.c \
                  $(wildcard $(ROOT)/modules/playback/core/pb_*.c) \
                  $(ROOT)/modules/common/vms_index.c $(ROOT)/modules/common/vms_index_reader.c \
                  $(ROOT)/sidecar/segpath.c
VMS_INDEX_HDRS := $(wildcard $(ROOT)/modules/playback/core/*.h) $(wildcard $(ROOT)/modules/common/vms_index*.h) \
                  $(ROOT)/sidecar/segpath.h

$(B)/bin/vms-index: $(VMS_INDEX_SRCS) $(VMS_INDEX_HDRS)
	@mkdir -p $(B)/bin
	$(CC) $(CPPFLAGS) -I$(ROOT)/modules/playback/core -I$(ROOT)/sidecar $(CFLAGS) -MF /dev/null \
		-o $@ $(VMS_INDEX_SRCS) $(LDFLAGS)

all: $(B)/bin/vms-index
.DEFAULT_GOAL := $(vms_index_goal)
