# One vms environment on AWS: every module of deploy/terraform/modules wired together. Each
# environment (envs/staging, envs/prod) applies this same root with its own variables
# (envs/ENV/ENV.tfvars, terraform.tfvars) and state (envs/ENV/backend.hcl). See deploy/terraform/README.md.
terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
  }
  # State in S3, locked with DynamoDB, one state per environment. Partial configuration,
  # completed at init time by the environment's file (bucket, key, region, lock table):
  #   terraform -chdir=deploy/terraform/stack init -reconfigure -backend-config=../envs/ENV/backend.hcl
  backend "s3" {}
}

locals {
  name = "vms-${var.environment}"
  tags = merge(var.extra_tags, { Environment = var.environment })
}

# Every taggable resource gets these; the modules add their own var.tags on top.
provider "aws" {
  region = var.region
  default_tags {
    tags = {
      Project   = "vms"
      ManagedBy = "terraform"
      Repo      = "vms/deploy/terraform"
    }
  }
}

module "vpc" {
  source             = "../modules/vpc"
  name               = local.name
  tags               = local.tags
  region             = var.region
  cidr               = var.vpc_cidr
  azs                = var.azs
  single_nat_gateway = var.single_nat_gateway
}

module "secrets" {
  source = "../modules/secrets"
  name   = local.name
  tags   = local.tags
}

module "ecr" {
  source = "../modules/ecr"
  name   = local.name
  tags   = local.tags
}

module "s3" {
  source                    = "../modules/s3"
  name                      = local.name
  tags                      = local.tags
  recordings_retention_days = var.recordings_retention_days
  detections_retention_days = var.detections_retention_days
  backups_retention_days    = var.backups_retention_days
}

module "alb" {
  source              = "../modules/alb"
  name                = local.name
  tags                = local.tags
  vpc_id              = module.vpc.vpc_id
  vpc_cidr            = module.vpc.vpc_cidr
  public_subnet_ids   = module.vpc.public_subnet_ids
  certificate_arn     = var.alb_certificate_arn
  deletion_protection = var.deletion_protection
}

module "cloudfront" {
  source                    = "../modules/cloudfront"
  name                      = local.name
  tags                      = local.tags
  origin_domain_name        = var.origin_domain_name
  aliases                   = var.site_aliases
  certificate_arn_us_east_1 = var.cloudfront_certificate_arn
}

module "rds" {
  source                    = "../modules/rds"
  name                      = local.name
  tags                      = local.tags
  vpc_id                    = module.vpc.vpc_id
  subnet_ids                = module.vpc.private_subnet_ids
  client_security_group_ids = [module.ecs.task_security_group_id]
  instance_class            = var.rds_instance_class
  multi_az                  = var.rds_multi_az
  deletion_protection       = var.deletion_protection
}

module "elasticache" {
  source                    = "../modules/elasticache"
  name                      = local.name
  tags                      = local.tags
  vpc_id                    = module.vpc.vpc_id
  subnet_ids                = module.vpc.private_subnet_ids
  client_security_group_ids = [module.ecs.task_security_group_id]
  auth_token_secret_arn     = module.secrets.arns["redis_auth"]
  node_type                 = var.redis_node_type
  num_cache_clusters        = var.redis_nodes
}

module "msk" {
  source                    = "../modules/msk"
  name                      = local.name
  tags                      = local.tags
  vpc_id                    = module.vpc.vpc_id
  subnet_ids                = module.vpc.private_subnet_ids
  client_security_group_ids = [module.ecs.task_security_group_id]
  broker_count              = var.kafka_brokers
  instance_type             = var.kafka_instance_type
}

module "ecs" {
  source                = "../modules/ecs"
  name                  = local.name
  tags                  = local.tags
  region                = var.region
  vpc_id                = module.vpc.vpc_id
  subnet_ids            = module.vpc.private_subnet_ids
  image_tag             = var.image_tag
  vmsd_repository_url   = module.ecr.repository_urls["vmsd"]
  nginx_repository_url  = module.ecr.repository_urls["nginx"]
  alb_security_group_id = module.alb.security_group_id
  target_group_arn      = module.alb.target_group_arn
  secret_arns           = module.secrets.arns
  secret_ids            = module.secrets.ids
  bucket_names          = module.s3.bucket_names
  bucket_arns           = module.s3.bucket_arns
  redis_host            = module.elasticache.primary_endpoint
  kafka_brokers         = module.msk.bootstrap_brokers_tls
  vmsd_count            = var.vmsd_count
  nginx_count           = var.nginx_count
}

module "sns" {
  source       = "../modules/sns"
  name         = local.name
  tags         = local.tags
  alarm_emails = var.alarm_emails
}

module "cloudwatch" {
  source              = "../modules/cloudwatch"
  name                = local.name
  tags                = local.tags
  cluster_name        = module.ecs.cluster_name
  service_names       = module.ecs.service_names
  sns_topic_arn       = module.sns.topic_arn
  ai_cost_usd_per_day = var.ai_cost_usd_per_day
}

module "backup" {
  source         = "../modules/backup"
  name           = local.name
  tags           = local.tags
  resource_arns  = [module.rds.arn, module.ecs.efs_arn, module.s3.bucket_arns["backups"]]
  retention_days = var.backups_retention_days
  dr_vault_arn   = var.dr_backup_vault_arn
  sns_topic_arn  = module.sns.topic_arn
}
