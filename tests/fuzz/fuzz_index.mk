fuzz_index_SRCS := modules/common/vms_index.c modules/common/vms_index_reader.c
