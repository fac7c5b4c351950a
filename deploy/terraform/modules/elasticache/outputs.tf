output "primary_endpoint" {
  description = "Host of the primary (TLS, port 6379)"
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "port" {
  value = aws_elasticache_replication_group.this.port
}
