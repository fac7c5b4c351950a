# Secrets Manager secrets of vms. Terraform creates them EMPTY: no aws_secretsmanager_secret_version
# here, so no value is ever in the configuration or in the state from this module. An operator puts
# the values once (deploy/terraform/README.md, "Manual steps"); vms reads them with its own
# aws-sm:ID[#KEY] syntax (docs/security.md, "Secrets"), which is what the ecs module passes in the
# *_FILE variables.
locals {
  secrets = {
    postgres_conninfo = "PostgreSQL conninfo of vmsd (host from the rds output, sslmode=verify-full)"
    redis_auth        = "ElastiCache Redis AUTH token (also vmsd VMS_REDIS_PASSWORD)"
    api_token_key     = "HS256 key of API tokens (vmsd api_token_secret_file, nginx vms_auth)"
    relay_token_key   = "HS256 key of relay publish tokens (vmsd relay_token_secret_file)"
  }
}

resource "aws_secretsmanager_secret" "this" {
  for_each                = local.secrets
  name                    = "${var.name}/${each.key}"
  description             = each.value
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = merge(var.tags, { Secret = each.key })
}
