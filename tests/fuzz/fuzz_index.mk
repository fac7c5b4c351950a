fuzz_index_SRCS := $(RECSTORE_SRCS)
