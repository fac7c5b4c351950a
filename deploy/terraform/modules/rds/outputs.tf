output "endpoint" {
  description = "host:port of the instance (for the postgres_conninfo secret)"
  value       = aws_db_instance.this.endpoint
}

output "arn" {
  value = aws_db_instance.this.arn
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret RDS keeps the master password in"
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}
