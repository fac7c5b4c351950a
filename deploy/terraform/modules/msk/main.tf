# Kafka (Amazon MSK) for vmsd's events (vms.events, vms.alerts, DLQs). TLS between clients and
# brokers and between brokers; no plaintext listener.
resource "aws_security_group" "this" {
  name        = "${var.name}-msk"
  description = "Kafka TLS from the ECS tasks"
  vpc_id      = var.vpc_id
  ingress {
    from_port       = 9094
    to_port         = 9094
    protocol        = "tcp"
    security_groups = var.client_security_group_ids
  }
  tags = merge(var.tags, { Name = "${var.name}-msk" })
}

resource "aws_msk_configuration" "this" {
  name           = var.name
  kafka_versions = [var.kafka_version]
  server_properties = join("\n", [
    "auto.create.topics.enable=false",
    "default.replication.factor=${min(3, var.broker_count)}",
    "min.insync.replicas=${var.broker_count > 2 ? 2 : 1}",
  ])
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/vms/${var.name}/msk"
  retention_in_days = 30
  tags              = var.tags
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = var.broker_count
  broker_node_group_info {
    instance_type   = var.instance_type
    client_subnets  = var.subnet_ids
    security_groups = [aws_security_group.this.id]
    storage_info {
      ebs_storage_info {
        volume_size = var.volume_size_gb
      }
    }
  }
  encryption_info {
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }
  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }
  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.this.name
      }
    }
  }
  tags = var.tags
}
