/*
 * conf/kafka/topics.json (docs/events.md, "Topics as code"):
 * {"topics":[{"name":"vms.events","partitions":6,"replication_factor":1,
 *             "configs":{"retention.ms":"604800000","cleanup.policy":"delete"}}]}
 * Loading checks everything and reports each problem with its place; a file with any error
 * loads nothing.
 */
#ifndef VMS_TOPICS_FILE_H
#define VMS_TOPICS_FILE_H

#include <stddef.h>

#define VMS_TOPICS_MAX          256
#define VMS_TOPIC_CONFIGS_MAX   64

typedef struct {
    char  *key, *value;
} vms_topic_config_t;

typedef struct {
    char               *name;
    int                 partitions;
    int                 replication_factor;
    vms_topic_config_t *configs;
    size_t              nconfigs;
} vms_topic_t;

typedef struct {
    vms_topic_t *v;
    size_t       n;
} vms_topics_t;

/* 0, or -1 with err holding one line per problem ("topics[3].partitions: must be an integer 1..10000") */
int  vms_topics_load(const char *text, size_t len, vms_topics_t *out, char *err, size_t errlen);
void vms_topics_free(vms_topics_t *t);

#endif
