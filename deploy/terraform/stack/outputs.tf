output "site_domain" {
  description = "CloudFront domain (point the site's DNS names at it)"
  value       = module.cloudfront.domain_name
}

output "alb_dns_name" {
  description = "ALB host (the origin_domain_name record points here)"
  value       = module.alb.dns_name
}

output "ecr_repository_urls" {
  description = "Where build-push pushes vmsd:SHA and nginx:SHA"
  value       = module.ecr.repository_urls
}

output "ecs_cluster" {
  value = module.ecs.cluster_name
}

output "rds_endpoint" {
  description = "host:port for the postgres_conninfo secret"
  value       = module.rds.endpoint
}

output "rds_master_user_secret_arn" {
  value = module.rds.master_user_secret_arn
}

output "redis_endpoint" {
  value = module.elasticache.primary_endpoint
}

output "kafka_bootstrap_brokers_tls" {
  value = module.msk.bootstrap_brokers_tls
}

output "secret_ids" {
  description = "Secrets to fill once (aws secretsmanager put-secret-value --secret-id ...)"
  value       = module.secrets.ids
}

output "buckets" {
  value = module.s3.bucket_names
}

output "alarm_topic_arn" {
  value = module.sns.topic_arn
}

output "backup_vault_arn" {
  value = module.backup.vault_arn
}
