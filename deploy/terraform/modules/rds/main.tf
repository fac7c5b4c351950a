# PostgreSQL 15 for vmsd and the sidecars. TLS is enforced server side (rds.force_ssl = 1: a
# plaintext connection is refused); the master password is generated and kept by RDS in Secrets
# Manager (manage_master_user_password), never in terraform.
resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-rds"
  description = "PostgreSQL from the ECS tasks"
  vpc_id      = var.vpc_id
  ingress {
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = var.client_security_group_ids
  }
  tags = merge(var.tags, { Name = "${var.name}-rds" })
}

resource "aws_db_parameter_group" "this" {
  name   = "${var.name}-pg15"
  family = "postgres15"
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  parameter {
    name  = "log_connections"
    value = "1"
  }
  tags = var.tags
}

resource "aws_db_instance" "this" {
  identifier                    = var.name
  engine                        = "postgres"
  engine_version                = "15"
  instance_class                = var.instance_class
  allocated_storage             = var.allocated_storage_gb
  max_allocated_storage         = var.allocated_storage_gb * 4
  storage_type                  = "gp3"
  storage_encrypted             = true
  db_name                       = "vms"
  username                      = "vms"
  manage_master_user_password   = true
  parameter_group_name          = aws_db_parameter_group.this.name
  db_subnet_group_name          = aws_db_subnet_group.this.name
  vpc_security_group_ids        = [aws_security_group.this.id]
  multi_az                      = var.multi_az
  publicly_accessible           = false
  backup_retention_period       = var.backup_retention_days
  deletion_protection           = var.deletion_protection
  skip_final_snapshot           = false
  final_snapshot_identifier     = "${var.name}-final"
  copy_tags_to_snapshot         = true
  performance_insights_enabled  = true
  auto_minor_version_upgrade    = true
  tags                          = var.tags
}
