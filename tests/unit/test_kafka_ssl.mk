test_kafka_ssl_SRCS := modules/common/vms_kafka_ssl.h
test_kafka_ssl_CFLAGS := -I$(ROOT)/modules/common
test_kafka_ssl_LIBS := -lrdkafka
