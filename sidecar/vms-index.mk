# vms-index CLI (owned by playback): rebuild/list/check a camera's segment index.
# Included by sidecar/Makefile; built as $(B)/bin/vms-index through EXTRA_BINS.
EXTRA_BINS += vms-index
vms-index_SRCS := ../modules/playback/cli/vms_index_cli.c \
                  $(patsubst $(ROOT)/%,../%,$(wildcard $(ROOT)/modules/playback/core/pb_*.c)) \
                  ../modules/common/vms_index.c ../modules/common/vms_index_reader.c record/segpath.c
vms-index_CFLAGS := -I$(ROOT)/modules/playback/core
