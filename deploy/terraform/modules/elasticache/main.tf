# Redis (ElastiCache replication group) with TLS in transit, encryption at rest and an AUTH token.
# The token is the value an operator put in the secrets module's redis_auth secret (README, "Manual
# steps"); it is read here at apply time, never written in terraform (it does end up in the state,
# as every ElastiCache auth token does: keep the state bucket encrypted and private).
data "aws_secretsmanager_secret_version" "auth" {
  secret_id = var.auth_token_secret_arn
}

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-redis"
  description = "Redis from the ECS tasks"
  vpc_id      = var.vpc_id
  ingress {
    from_port       = 6379
    to_port         = 6379
    protocol        = "tcp"
    security_groups = var.client_security_group_ids
  }
  tags = merge(var.tags, { Name = "${var.name}-redis" })
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id       = var.name
  description                = "vms Redis (${var.name})"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = var.node_type
  num_cache_clusters         = var.num_cache_clusters
  automatic_failover_enabled = var.num_cache_clusters > 1
  multi_az_enabled           = var.num_cache_clusters > 1
  port                       = 6379
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = [aws_security_group.this.id]
  transit_encryption_enabled = true
  at_rest_encryption_enabled = true
  auth_token                 = data.aws_secretsmanager_secret_version.auth.secret_string
  snapshot_retention_limit   = 1
  tags                       = var.tags
}
