test_vms_index_SRCS := $(RECSTORE_SRCS)
