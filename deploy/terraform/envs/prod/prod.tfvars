# prod: the sizes and settings that differ from the other environment (committed; no secrets).
# Used with the stack: terraform -chdir=deploy/terraform/stack plan -var-file=../envs/prod/prod.tfvars ...
environment               = "prod"
azs                       = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr                  = "10.40.0.0/16"
single_nat_gateway        = false
recordings_retention_days = 30
detections_retention_days = 90
backups_retention_days    = 35
rds_instance_class        = "db.m7g.large"
rds_multi_az              = true
redis_node_type           = "cache.m7g.large"
redis_nodes               = 2
kafka_brokers             = 3
kafka_instance_type       = "kafka.m7g.large"
nginx_count               = 2
deletion_protection       = true
