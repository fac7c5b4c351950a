# vms-alert-notifier (docs/events.md, "vms-alert-notifier"): vms.alerts + camera events -> webhooks.
EXTRA_BINS += vms-alert-notifier
vms-alert-notifier_SRCS := alert_notifier/main.c alert_notifier/receivers.c consumer_common/svc.c \
                           consumer_common/jcheck.c
vms-alert-notifier_PKGS := rdkafka libcurl jansson
vms-alert-notifier_LIBS := -lpthread
