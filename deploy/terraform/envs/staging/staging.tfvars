# staging: the sizes and settings that differ from the other environment (committed; no secrets).
# Used with the stack: terraform -chdir=deploy/terraform/stack plan -var-file=../envs/staging/staging.tfvars ...
environment               = "staging"
azs                       = ["eu-west-1a", "eu-west-1b"]
vpc_cidr                  = "10.41.0.0/16"
single_nat_gateway        = true
recordings_retention_days = 7
detections_retention_days = 30
backups_retention_days    = 14
rds_instance_class        = "db.t4g.small"
rds_multi_az              = false
redis_node_type           = "cache.t4g.micro"
redis_nodes               = 1
kafka_brokers             = 2
kafka_instance_type       = "kafka.t3.small"
nginx_count               = 1
deletion_protection       = false
