output "arns" {
  description = "Secret ARN by key (postgres_conninfo, redis_auth, api_token_key, relay_token_key)"
  value       = { for k, s in aws_secretsmanager_secret.this : k => s.arn }
}

output "ids" {
  description = "Secret name by key: what follows aws-sm: in vms's *_FILE variables"
  value       = { for k, s in aws_secretsmanager_secret.this : k => s.name }
}
