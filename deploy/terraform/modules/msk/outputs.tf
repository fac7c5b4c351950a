output "bootstrap_brokers_tls" {
  description = "vmsd kafka_brokers (TLS listener)"
  value       = aws_msk_cluster.this.bootstrap_brokers_tls
}

output "arn" {
  value = aws_msk_cluster.this.arn
}
