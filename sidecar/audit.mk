# vms-audit-consumer (owned by vms_auth): Kafka vms.audit -> PostgreSQL audit_log.
# Included by sidecar/Makefile; its sources live in audit_consumer/, outside vmsd's *.c wildcard.
EXTRA_BINS += vms-audit-consumer
vms-audit-consumer_SRCS := audit_consumer/main.c audit_consumer/audit_record.c consumer_common/svc.c
vms-audit-consumer_PKGS := rdkafka libpq jansson
